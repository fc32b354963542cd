"""Pipeline test fixtures: every pipeline test runs on SQLite and on PostgreSQL.

Same pattern as ``tests/store/conftest.py``: ``backend`` (session scope, parametrized
``sqlite`` / ``postgresql``) is a database migrated to head -- a file in a temporary directory,
or a fresh schema ``sc_test_<hex>`` on ``SECURECOMM_TEST_POSTGRES_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``), dropped at the end. PostgreSQL tests
skip when the server is unreachable, and fail instead when ``SECURECOMM_REQUIRE_POSTGRES=1``.

``db`` empties the backend before the test. ``world`` seeds a small synthetic world into it
(:data:`WORLD_SPEC`) with the galleries and the biographic model in the test's own data
directory and returns a :class:`Pipeline` helper (submit, run the worker, query).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, make_url, select, text
from sqlalchemy.orm import Session

from securecomm.store.audit import GENESIS_HASH
from securecomm.store.db import make_engine, session_factory, upgrade
from securecomm.store.models import Base

PG_DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgresql")


def _pg_admin_url() -> str:
    return os.environ.get("SECURECOMM_TEST_POSTGRES_URL", "").strip() or PG_DEFAULT_URL


def require_postgres() -> bool:
    return os.environ.get("SECURECOMM_REQUIRE_POSTGRES", "").strip() in ("1", "true", "yes")


@dataclass
class _Postgres:
    admin_url: str
    admin: Engine
    schemas: list[str] = field(default_factory=list)

    def new_url(self) -> str:
        schema = f"sc_test_{uuid.uuid4().hex[:12]}"
        with self.admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        self.schemas.append(schema)
        url = make_url(self.admin_url).update_query_dict({"options": f"-csearch_path={schema}"})
        return url.render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.admin.begin() as conn:
            for schema in self.schemas:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def _postgres() -> Iterator[_Postgres]:
    url = _pg_admin_url()
    admin = make_engine(make_url(url).update_query_dict({"connect_timeout": "5"}))
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        admin.dispose()
        message = f"PostgreSQL not reachable at {make_url(url).render_as_string()}: {exc}"
        if require_postgres():
            pytest.fail(f"SECURECOMM_REQUIRE_POSTGRES=1 but {message}", pytrace=False)
        pytest.skip(message)
    pg = _Postgres(url, admin)
    yield pg
    pg.drop_all()


@dataclass
class Backend:
    name: str
    url: str
    engine: Engine

    def session(self) -> Session:
        return session_factory(self.engine)()

    def reset(self) -> None:
        tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
        with self.engine.begin() as conn:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))
            conn.execute(
                text("INSERT INTO audit_head (id, size, last_hash) VALUES (1, 0, :h)"),
                {"h": GENESIS_HASH},
            )


def new_url(name: str, request: pytest.FixtureRequest, tmp_path_factory) -> str:
    if name == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "store.db"
        return f"sqlite:///{path}"
    return request.getfixturevalue("_postgres").new_url()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Backend]:
    url = new_url(request.param, request, tmp_path_factory)
    upgrade(url)
    engine = make_engine(url)
    yield Backend(request.param, url, engine)
    engine.dispose()


@pytest.fixture
def db(backend: Backend) -> Backend:
    backend.reset()
    return backend


@pytest.fixture
def fresh_url(backend: Backend, request, tmp_path_factory) -> Callable[[], str]:
    return lambda: new_url(backend.name, request, tmp_path_factory)


# --------------------------------------------------------------------------- the world

from interop_helpers import T_NOW  # noqa: E402


def _world_spec():
    from securecomm.interop.synthetic_world import WorldSpec

    return WorldSpec(persons=400, bookings=600, seed=7, share_ident=0.4, share_lookalike=0.03,
                     no_template_rate=0.03)  # fmt: skip


@pytest.fixture(scope="session")
def small_world():
    from securecomm.interop.synthetic_world import generate_world

    return generate_world(_world_spec())


@pytest.fixture(scope="session")
def biographic_model(small_world, tmp_path_factory) -> Path:
    """A Splink model trained once on the small world's IDENT encounters."""
    import pandas as pd

    from securecomm.identity.biographic import BiographicLinker

    fins = {s["fin"]: i for i, s in enumerate(small_world.imm_subjects)}
    frame = pd.DataFrame(
        {
            "encounter_id": list(range(len(small_world.imm_encounters))),
            "identity_id": [fins[e["fin"]] for e in small_world.imm_encounters],
            "first_name": [e["given_names"] for e in small_world.imm_encounters],
            "last_name": [e["family_name"] for e in small_world.imm_encounters],
            "dob": [e["birth_date"].isoformat() if e["birth_date"] else None for e in small_world.imm_encounters],
        }
    )  # fmt: skip
    path = tmp_path_factory.mktemp("model") / "biographic-model.json"
    BiographicLinker.train(frame).save(path)
    return path


@dataclass
class Pipeline:
    """A seeded world in a backend, with helpers."""

    backend: Backend
    world: Any
    settings: Any
    data_dir: Path
    truth: dict[str, dict[str, Any]]

    @property
    def engine(self) -> Engine:
        return self.backend.engine

    def session(self) -> Session:
        return self.backend.session()

    def lines(self, n: int | None = None) -> list[str]:
        lines = list(self.world.booking_lines())
        return lines if n is None else lines[:n]

    def submit(self, lines: list[str] | None = None, **kw):
        from securecomm.interop.intake import submit_bookings

        return submit_bookings(
            session_factory(self.engine), lines if lines is not None else self.lines(), **kw
        )

    def agencies(self):
        from securecomm.interop.adapters import agencies_for

        return agencies_for(self.engine.url, self.settings)

    def context(self, auto_accept: bool = True):
        from securecomm.interop.stages import Context

        return Context(self.settings, self.agencies(), lambda: T_NOW, auto_accept)

    def run(self, **kw):
        from securecomm.interop.worker import run_worker

        kw.setdefault("auto_accept", True)
        kw.setdefault("clock", lambda: T_NOW)
        return run_worker(self.engine, settings=self.settings, **kw)

    def count(self, model, *where) -> int:
        with self.session() as s:
            return s.scalar(select(func.count()).select_from(model).where(*where)) or 0

    def stages(self) -> dict[str, int]:
        from securecomm.interop.worker import stage_counts

        with self.session() as s:
            return {str(getattr(k, "value", k)): v for k, v in stage_counts(s).items()}


def make_pipeline(
    backend: Backend, world, data_dir: Path, model: Path | None, **settings_kw
) -> Pipeline:
    from securecomm.interop.settings import load_settings
    from securecomm.interop.synthetic_world import seed_world

    data_dir.mkdir(parents=True, exist_ok=True)
    settings = load_settings(data_dir=data_dir, **settings_kw)
    with backend.session() as s, s.begin():
        seed_world(s, world)
    if model is not None:
        prefix = settings.file_prefix_for(backend.url)
        shutil.copy(model, data_dir / f"{prefix}.biographic-model.json")
    truth = {t["tcn"]: t for t in world.truth}
    return Pipeline(backend, world, settings, data_dir, truth)


@pytest.fixture
def world(db: Backend, small_world, biographic_model, tmp_path) -> Pipeline:
    return make_pipeline(db, small_world, tmp_path / "data", biographic_model)
