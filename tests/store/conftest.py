"""Store test fixtures: every store test runs on every backend (SQLite and PostgreSQL).

Backends and isolation
    ``sqlite``: a database file in a pytest temporary directory.
    ``postgresql``: the server at ``SECURECOMM_TEST_POSTGRES_URL`` (default
    ``postgresql+psycopg://postgres@127.0.0.1:5432/test``); each database a test needs is a
    freshly created, uniquely named schema (``sc_test_<hex>``) selected through the URL
    (``?options=-csearch_path=<schema>``), so the Alembic version table lands in it too. All
    schemas this run created are dropped at the end of the session.
    If PostgreSQL cannot be reached its tests are skipped, unless
    ``SECURECOMM_REQUIRE_POSTGRES=1`` (CI), in which case they fail with the reason.

Fixtures
    ``backend`` (session, parametrized ``sqlite`` / ``postgresql``): a database migrated to
    head, shared by the tests of that backend; :class:`Backend` gives ``url``, ``engine``,
    ``session()``, ``reset()``.
    ``db``: the ``backend`` emptied before the test (every table, audit head back to size 0).
    ``fresh_url``: a factory of brand-new *empty* databases of the same backend (for migration
    tests); ``fresh_url()`` -> URL string.
    ``seed``: helpers that insert a jurisdiction and build Case v1 / Decision v1 objects.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session

from securecomm.store.audit import GENESIS_HASH
from securecomm.store.db import make_engine, session_factory, upgrade
from securecomm.store.models import Base

PG_DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgresql")


def _pg_admin_url() -> str:
    return os.environ.get("SECURECOMM_TEST_POSTGRES_URL", "").strip() or PG_DEFAULT_URL


def _require_postgres() -> bool:
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
    except Exception as exc:  # unreachable server, bad credentials, missing driver …
        admin.dispose()
        message = f"PostgreSQL not reachable at {make_url(url).render_as_string()}: {exc}"
        if _require_postgres():
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
        """Empty every table; the audit head back to size 0."""
        tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
        with self.engine.begin() as conn:
            # DELETE, not TRUNCATE: on nearly empty tables it is ~100x faster on PostgreSQL.
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))
            conn.execute(
                text("INSERT INTO audit_head (id, size, last_hash) VALUES (1, 0, :h)"),
                {"h": GENESIS_HASH},
            )


def _new_url(name: str, request: pytest.FixtureRequest, tmp_path_factory) -> str:
    if name == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "store.db"
        return f"sqlite:///{path}"
    return request.getfixturevalue("_postgres").new_url()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Backend]:
    url = _new_url(request.param, request, tmp_path_factory)
    upgrade(url)
    engine = make_engine(url)
    yield Backend(request.param, url, engine)
    engine.dispose()


@pytest.fixture
def db(backend: Backend) -> Backend:
    backend.reset()
    return backend


@pytest.fixture
def fresh_url(
    backend: Backend, request: pytest.FixtureRequest, tmp_path_factory
) -> Callable[[], str]:
    """Factory of new empty databases on the current backend."""
    return lambda: _new_url(backend.name, request, tmp_path_factory)


# --------------------------------------------------------------------------- domain helpers

ORI = "CO0010000"
OTHER_ORI = "TX2270000"
T0 = datetime(2011, 10, 3, 16, 0, tzinfo=UTC)


def case_document(case_id: str = "case-1", ori: str = ORI, **person: Any) -> dict[str, Any]:
    """A minimal valid Case v1 (a person who entered without inspection, one traffic charge)."""
    return {
        "case_id": case_id,
        "decided_at": "2011-10-03T10:00:00-06:00",
        "program": "secure_communities",
        "jurisdiction": {
            "ori": ori,
            "state": ori[:2],
            "timezone": "America/Denver",
            "disclosure": "full",
            "honors_detainers": True,
        },
        "person": {
            "birth_date": "1990-05-01",
            "citizenship_status": "entered_without_inspection",
            "entered_us_on": "1991-06-01",
            "entry": "without_inspection",
            **person,
        },
        "arrest": {
            "arrested_at": "2011-10-02T22:00:00-06:00",
            "charges": [
                {"ncic": "5499", "literal": "DRIVING WITHOUT A LICENSE", "severity": "misdemeanor"}
            ],
        },
    }


@dataclass
class Seed:
    """Insert reference rows and build exchange-format documents for store tests."""

    ori: str = ORI
    other_ori: str = OTHER_ORI
    t0: datetime = T0

    def jurisdictions(self, session: Session) -> None:
        from securecomm.store.repositories import upsert_jurisdiction

        upsert_jurisdiction(
            session, ORI, state="CO", timezone="America/Denver", county_fips="08001"
        )
        upsert_jurisdiction(
            session, OTHER_ORI, state="TX", timezone="America/Chicago", disclosure="none"
        )

    def case(self, case_id: str = "case-1", ori: str = ORI, **person: Any) -> dict[str, Any]:
        return case_document(case_id, ori, **person)

    def decision(self, case: dict[str, Any], pack: str = "tfsc-2011"):
        from securecomm.law.engine import CompiledPack
        from securecomm.law.packs import PACKS
        from securecomm.law.schema import Case

        return CompiledPack(PACKS[pack]).decide(Case.model_validate(case))


@pytest.fixture
def seed(db: Backend) -> Seed:
    """Jurisdictions inserted (committed) in the emptied database."""
    s = Seed()
    with db.session() as session, session.begin():
        s.jurisdictions(session)
    return s
