"""Migrations: apply from empty, match the models exactly, land in the right schema."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from securecomm.store.db import (
    alembic_config,
    current_revision,
    head_revision,
    make_engine,
    upgrade,
)
from securecomm.store.models import Base


def _diff(engine) -> list:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def _checks(engine) -> dict[tuple[str, str], str]:
    insp = inspect(engine)
    return {
        (table, ck["name"]): " ".join(str(ck["sqltext"]).split())
        for table in insp.get_table_names()
        for ck in insp.get_check_constraints(table)
    }


def test_upgrade_from_empty_matches_models(fresh_url):
    url = fresh_url()
    assert current_revision(url) is None
    assert upgrade(url) == head_revision()
    engine = make_engine(url)
    try:
        assert _diff(engine) == []
        tables = set(inspect(engine).get_table_names())
        assert tables == set(Base.metadata.tables) | {"alembic_version"}
        with engine.connect() as conn:
            head = conn.execute(text("SELECT id, size, last_hash FROM audit_head")).all()
        assert head == [(1, 0, "0" * 64)]
    finally:
        engine.dispose()


def test_check_constraints_match_models(fresh_url, backend):
    """compare_metadata ignores CHECK constraints: compare them with a create_all copy."""
    migrated, created = make_engine(fresh_url()), make_engine(fresh_url())
    try:
        upgrade(engine=migrated)
        Base.metadata.create_all(created)
        want = _checks(created)
        assert want, "the models declare CHECK constraints"
        assert _checks(migrated) == want
        names = {name for _table, name in want}
        assert {
            "ck_jurisdictions_disclosure",
            "ck_hits_one_subject",
            "ck_imm_biometrics_template_dim",
            "ck_officer_actions_override_reason",
        } <= names
    finally:
        migrated.dispose()
        created.dispose()


def test_upgrade_is_idempotent_and_downgrade_reverses(fresh_url):
    url = fresh_url()
    engine = make_engine(url)
    try:
        upgrade(engine=engine)
        assert upgrade(engine=engine) == head_revision()
        command.downgrade(alembic_config(engine), "base")
        assert current_revision(engine=engine) is None
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine=engine)
        assert _diff(engine) == []
    finally:
        engine.dispose()


def test_version_table_lands_in_the_test_schema(backend):
    with backend.engine.connect() as conn:
        if backend.name == "postgresql":
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
            assert schema.startswith("sc_test_")
            where = conn.execute(
                text(
                    "SELECT table_schema FROM information_schema.tables "
                    "WHERE table_name = 'alembic_version' AND table_schema = :s"
                ),
                {"s": schema},
            ).all()
            assert where == [(schema,)]
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    assert revision == head_revision()


def test_migrations_work_from_any_cwd(fresh_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    url = fresh_url()
    assert upgrade(url) == head_revision()
    assert current_revision(url) == head_revision()


def test_sqlite_connection_settings(backend):
    with backend.engine.connect() as conn:
        if backend.name != "sqlite":
            assert conn.execute(text("SHOW TimeZone")).scalar_one()
            return
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar_one() == 30000


def test_sqlite_synchronous_is_full_unless_set_to_normal(tmp_path, monkeypatch):
    """FULL by default (power-loss durable); NORMAL on request; anything else refused."""
    from securecomm.store.db import make_engine

    url = f"sqlite:///{tmp_path}/sync.db"
    for setting, expected in ((None, 2), ("normal", 1), ("FULL", 2)):
        if setting is None:
            monkeypatch.delenv("SECURECOMM_SQLITE_SYNCHRONOUS", raising=False)
        else:
            monkeypatch.setenv("SECURECOMM_SQLITE_SYNCHRONOUS", setting)
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                assert conn.execute(text("PRAGMA synchronous")).scalar_one() == expected
        finally:
            engine.dispose()
    monkeypatch.setenv("SECURECOMM_SQLITE_SYNCHRONOUS", "OFF")
    with pytest.raises(ValueError, match="SECURECOMM_SQLITE_SYNCHRONOUS"):
        make_engine(url)
