"""Engines, sessions and migrations.

Which database
    :func:`database_url` reads ``SECURECOMM_DATABASE_URL``; without it the store is the SQLite
    file ``securecomm.db`` **in the current working directory** (``sqlite:///securecomm.db``,
    resolved when the first connection is made). PostgreSQL: e.g.
    ``postgresql+psycopg://user@host:5432/dbname``; a schema other than the user's default is
    chosen with ``?options=-csearch_path%3Dmyschema`` (the Alembic version table follows it).

SQLite
    Every connection gets ``journal_mode=WAL`` (readers never block the writer),
    ``foreign_keys=ON`` and a 30 s ``busy_timeout``. ``synchronous`` is FULL by default: a
    committed transaction survives a power cut or OS crash. ``SECURECOMM_SQLITE_SYNCHRONOUS=NORMAL``
    trades that for fewer fsyncs: in WAL mode a commit is then durable against a *process*
    crash (SIGKILL, what the crash test covers) but the last commits before a power loss may
    be rolled back (the database stays consistent). The pipeline commits once per micro-batch,
    so the saving is small (docs/benchmarks.md). SQLAlchemy, not the ``sqlite3`` module,
    emits ``BEGIN``: ``BEGIN IMMEDIATE`` by default, so a transaction that reads and then
    writes (an idempotent insert, an audit append) holds the write lock from its start and can
    never fail half-way with "database is locked". Read-only work may ask for a deferred
    transaction with the execution option ``sqlite_begin="DEFERRED"``.

Migrations
    Alembic's environment lives inside the package (``securecomm/store/migrations``); no
    ``alembic.ini`` is needed. :func:`alembic_config` builds the configuration in code, so
    ``upgrade()`` works from any working directory and from an installed package. Use
    ``securecomm db upgrade`` / ``securecomm db current``; to write a new revision, change the
    models, then ``python -m securecomm.store.db revision "what changed"`` (autogenerates
    against a scratch SQLite database migrated to head; review the result by hand, as for the
    initial revision, on both backends).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

__all__ = [
    "DEFAULT_DATABASE_URL",
    "ENV_DATABASE_URL",
    "ENV_SQLITE_SYNCHRONOUS",
    "MIGRATIONS_DIR",
    "alembic_config",
    "current_revision",
    "database_url",
    "display_url",
    "head_revision",
    "make_engine",
    "new_revision",
    "session_factory",
    "session_scope",
    "sqlite_synchronous",
    "upgrade",
]

ENV_DATABASE_URL = "SECURECOMM_DATABASE_URL"
#: SQLite file ``securecomm.db`` in the current working directory.
DEFAULT_DATABASE_URL = "sqlite:///securecomm.db"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
ENV_SQLITE_SYNCHRONOUS = "SECURECOMM_SQLITE_SYNCHRONOUS"
_SYNCHRONOUS = ("FULL", "NORMAL")


def sqlite_synchronous() -> str:
    """``SECURECOMM_SQLITE_SYNCHRONOUS`` (FULL or NORMAL; default FULL)."""
    value = os.environ.get(ENV_SQLITE_SYNCHRONOUS, "").strip().upper() or "FULL"
    if value not in _SYNCHRONOUS:
        raise ValueError(
            f"{ENV_SQLITE_SYNCHRONOUS}: {value!r} is not one of {', '.join(_SYNCHRONOUS)}"
        )
    return value


def database_url() -> str:
    """``SECURECOMM_DATABASE_URL`` if set (and not blank), else ``sqlite:///securecomm.db``."""
    url = os.environ.get(ENV_DATABASE_URL, "").strip()
    return url or DEFAULT_DATABASE_URL


def display_url(url: str | URL) -> str:
    """The URL with any password masked, for printing."""
    return make_url(url).render_as_string(hide_password=True)


def make_engine(url: str | URL | None = None, **kwargs: Any) -> Engine:
    """An engine for ``url`` (default :func:`database_url`), set up for this store.

    SQLite: WAL, foreign keys, busy timeout, ``BEGIN IMMEDIATE`` transactions (see the module
    docstring). PostgreSQL: ``pool_pre_ping``. Extra keyword arguments go to
    :func:`sqlalchemy.create_engine`.
    """
    url = make_url(url if url is not None else database_url())
    if url.get_backend_name() == "postgresql":
        kwargs.setdefault("pool_pre_ping", True)
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    synchronous = sqlite_synchronous()  # checked once, when the engine is made

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Take BEGIN away from the sqlite3 module; the "begin" hook below emits it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute(f"PRAGMA synchronous = {synchronous}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        mode = str(connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")).upper()
        if mode not in ("IMMEDIATE", "DEFERRED", "EXCLUSIVE"):
            raise ValueError(f"sqlite_begin: {mode!r} (IMMEDIATE, DEFERRED or EXCLUSIVE)")
        connection.exec_driver_sql(f"BEGIN {mode}")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to ``engine``; objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any exception."""
    with session_factory(engine)() as session, session.begin():
        yield session


# --------------------------------------------------------------------------- migrations


def alembic_config(engine: Engine | None = None) -> Config:
    """Alembic configuration built in code (no ``alembic.ini``).

    With ``engine``, the migration environment runs on it (``config.attributes["engine"]``);
    without, on :func:`make_engine` of ``sqlalchemy.url`` or :func:`database_url`.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    """The newest revision the package ships."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def upgrade(
    url: str | URL | None = None, revision: str = "head", *, engine: Engine | None = None
) -> str | None:
    """Migrate the database at ``url`` (default :func:`database_url`) to ``revision``.

    Returns the revision the database is at afterwards.
    """
    own = engine is None
    engine = engine if engine is not None else make_engine(url)
    try:
        command.upgrade(alembic_config(engine), revision)
        return current_revision(engine=engine)
    finally:
        if own:
            engine.dispose()


def current_revision(url: str | URL | None = None, *, engine: Engine | None = None) -> str | None:
    """The revision the database is at; ``None`` for a database never migrated."""
    own = engine is None
    engine = engine if engine is not None else make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        if own:
            engine.dispose()


def new_revision(message: str, url: str | URL | None = None) -> None:
    """Autogenerate a revision from the models against ``url`` (default: a scratch SQLite
    database migrated to head). The result must be reviewed and edited by hand."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(url or f"sqlite:///{tmp}/scratch.db")
        try:
            command.upgrade(alembic_config(engine), "head")
            command.revision(alembic_config(engine), message=message, autogenerate=True)
        finally:
            engine.dispose()


if __name__ == "__main__":  # pragma: no cover - developer tool
    import sys

    if len(sys.argv) != 3 or sys.argv[1] != "revision":
        sys.exit('usage: python -m securecomm.store.db revision "message"')
    new_revision(sys.argv[2])
