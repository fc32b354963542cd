"""Database backends for store-backed tests: every such test runs on SQLite and PostgreSQL.

A pytest plugin (registered by ``tests/conftest.py`` through ``pytest_plugins``), so the
fixtures below exist in every test folder under one definition:

Backends and isolation
    ``sqlite``: a database file in a pytest temporary directory.
    ``postgresql``: the server at ``SECURECOMM_TEST_POSTGRES_URL`` (default
    ``postgresql+psycopg://postgres@127.0.0.1:5432/test``); each database a test needs is a
    freshly created, uniquely named schema (``sc_test_<hex>``) selected through the URL
    (``?options=-csearch_path=<schema>``), so the Alembic version table lands in it too. All
    schemas a run created are dropped at its end.
    If PostgreSQL cannot be reached its tests are skipped, unless
    ``SECURECOMM_REQUIRE_POSTGRES=1`` (CI), in which case they fail with the reason.

Fixtures
    ``backend`` (session, parametrized ``sqlite`` / ``postgresql``): a database migrated to
    head, shared by the tests of that backend; :class:`Backend` gives ``name``, ``url``,
    ``engine``, ``session()``, ``reset()``.
    ``db``: the ``backend`` emptied before the test (every table, audit head back to size 0).
    ``fresh_url``: a factory of brand-new *empty* databases of the same backend (migration
    tests, subprocess runs); ``fresh_url()`` -> URL string.
    ``_postgres``: the session's PostgreSQL server handle (schemas made and dropped).

Helpers for module- or session-scoped fixtures of other folders (they cannot use the
function-scoped ones): :func:`backend_url` (``"sqlite"`` / ``"postgresql"`` -> a new empty
database URL, skipping or failing like the fixtures) and :func:`drop_url` (drop such a
PostgreSQL schema now; otherwise it goes at the end of the run).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session

from securecomm.store.audit import GENESIS_HASH
from securecomm.store.db import make_engine, session_factory, upgrade
from securecomm.store.models import Base

__all__ = [
    "BACKENDS",
    "PG_DEFAULT_URL",
    "Backend",
    "backend",
    "backend_url",
    "db",
    "drop_url",
    "fresh_url",
    "new_url",
    "pg_admin_url",
    "require_postgres",
]

PG_DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgresql")


def pg_admin_url() -> str:
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

    def drop(self, schema: str) -> None:
        with self.admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        if schema in self.schemas:
            self.schemas.remove(schema)

    def drop_all(self) -> None:
        for schema in list(self.schemas):
            self.drop(schema)
        self.admin.dispose()


def _connect_postgres() -> _Postgres:
    """The server, or skip (fail under ``SECURECOMM_REQUIRE_POSTGRES=1``) with the reason."""
    url = pg_admin_url()
    admin = make_engine(make_url(url).update_query_dict({"connect_timeout": "5"}))
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # unreachable server, bad credentials, missing driver ...
        admin.dispose()
        message = f"PostgreSQL not reachable at {make_url(url).render_as_string()}: {exc}"
        if require_postgres():
            pytest.fail(f"SECURECOMM_REQUIRE_POSTGRES=1 but {message}", pytrace=False)
        pytest.skip(message)
    return _Postgres(url, admin)


@pytest.fixture(scope="session")
def _postgres() -> Iterator[_Postgres]:
    pg = _connect_postgres()
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


def new_url(name: str, request: pytest.FixtureRequest, tmp_path_factory) -> str:
    """A new empty database of backend ``name`` (for fixtures)."""
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
def fresh_url(
    backend: Backend, request: pytest.FixtureRequest, tmp_path_factory
) -> Callable[[], str]:
    """Factory of new empty databases on the current backend."""
    return lambda: new_url(backend.name, request, tmp_path_factory)


# --------------------------------------------------------------------------- outside fixtures

_SERVER: list[_Postgres] = []


def _drop_server_schemas() -> None:
    with contextlib.suppress(Exception):  # best effort at interpreter exit
        _SERVER[0].drop_all()


def _server() -> _Postgres:
    if not _SERVER:
        _SERVER.append(_connect_postgres())
        atexit.register(_drop_server_schemas)
    return _SERVER[0]


def backend_url(name: str) -> str:
    """A new empty database of backend ``name`` for a module- or session-scoped fixture:
    a SQLite file in a fresh temporary directory, or a fresh PostgreSQL schema (skips, or
    fails under ``SECURECOMM_REQUIRE_POSTGRES=1``, when the server is unreachable)."""
    if name == "sqlite":
        return f"sqlite:///{tempfile.mkdtemp(prefix='securecomm-db-')}/store.db"
    if name != "postgresql":
        raise ValueError(f"backend {name!r}: expected one of {', '.join(BACKENDS)}")
    return _server().new_url()


def drop_url(url: str) -> None:
    """Drop the PostgreSQL schema :func:`backend_url` made for ``url`` (no-op for SQLite)."""
    options = make_url(url).query.get("options", "")
    if isinstance(options, tuple):
        options = options[0]
    prefix = "-csearch_path="
    if _SERVER and options.startswith(prefix):
        _SERVER[0].drop(options[len(prefix) :])
