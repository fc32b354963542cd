"""Pipeline test fixtures: every pipeline test runs on SQLite and on PostgreSQL.

The backend fixtures come from the shared plugin ``tests/db_backends.py`` (registered in
``tests/conftest.py``), as for the store tests: ``backend`` (session scope, parametrized
``sqlite`` / ``postgresql``) is a database migrated to head -- a file in a temporary directory,
or a fresh schema ``sc_test_<hex>`` on ``SECURECOMM_TEST_POSTGRES_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``), dropped at the end. PostgreSQL tests
skip when the server is unreachable, and fail instead when ``SECURECOMM_REQUIRE_POSTGRES=1``.

``db`` empties the backend before the test. ``world`` seeds a small synthetic world into it
(:data:`WORLD_SPEC`) with the galleries and the biographic model in the test's own data
directory and returns a :class:`Pipeline` helper (submit, run the worker, query).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from interop_helpers import T_NOW, register_test_users
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from db_backends import Backend
from securecomm.store.db import session_factory

# --------------------------------------------------------------------------- the world


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
        register_test_users(s)  # the people the tests act as (--as USER)
    if model is not None:
        prefix = settings.file_prefix_for(backend.url)
        shutil.copy(model, data_dir / f"{prefix}.biographic-model.json")
    truth = {t["tcn"]: t for t in world.truth}
    return Pipeline(backend, world, settings, data_dir, truth)


@pytest.fixture
def world(db: Backend, small_world, biographic_model, tmp_path) -> Pipeline:
    return make_pipeline(db, small_world, tmp_path / "data", biographic_model)
