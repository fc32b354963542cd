"""`securecomm db …` and `securecomm audit …` (registered here as the main CLI will)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import typer
from sqlalchemy import text
from typer.testing import CliRunner

from securecomm.store import audit
from securecomm.store.commands import audit_app, db_app
from securecomm.store.db import head_revision

root = typer.Typer()
root.add_typer(db_app, name="db")
root.add_typer(audit_app, name="audit")
runner = CliRunner()
T0 = datetime(2011, 10, 3, 16, 0, tzinfo=UTC)


def run(*args: str, **env: str):
    return runner.invoke(root, list(args), env=env or None)


def _fill(db, n: int = 6) -> None:
    with db.session() as s, s.begin():
        for i in range(n):
            audit.append(s, "decision.recorded", actor="cli-test", payload={"i": i})


def test_db_upgrade_and_current(fresh_url):
    url = fresh_url()
    result = run("db", "current", "--url", url)
    assert result.exit_code == 0, result.output
    assert "revision (none)" in result.output or "no database file yet" in result.output
    result = run("db", "upgrade", "--url", url)
    assert result.exit_code == 0, result.output
    assert f"upgraded from (empty) to revision {head_revision()}" in result.output
    result = run("db", "upgrade", "--url", url)
    assert f"already at revision {head_revision()}" in result.output
    result = run("db", "current", SECURECOMM_DATABASE_URL=url)  # from the environment
    assert result.exit_code == 0
    assert f"revision {head_revision()} (head)" in result.output


def test_default_database_is_securecomm_db_in_the_cwd(tmp_path, monkeypatch):
    """Backend-independent: the default is the SQLite file in the working directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SECURECOMM_DATABASE_URL", raising=False)
    result = run("db", "current")
    assert "no database file yet" in result.output
    assert not (tmp_path / "securecomm.db").exists()
    result = run("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "securecomm.db").is_file()
    assert (
        f"sqlite:///securecomm.db: revision {head_revision()} (head)" in run("db", "current").output
    )


def test_audit_verify_ok_then_tampered(db):
    _fill(db)
    result = run("audit", "verify", "--url", db.url)
    assert result.exit_code == 0, result.output
    assert "OK: audit log intact: 6 entries" in result.output
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET payload = :p WHERE seq = 4"), {"p": '{"i":99}'})
    result = run("audit", "verify", "--url", db.url)
    assert result.exit_code == 1
    assert "audit log TAMPERED: seq 4: content_edited" in result.output


def test_audit_checkpoint_and_trusted_heads(db, tmp_path):
    from securecomm.store.treeheads import generate_key

    key, _pub, _kid = generate_key(tmp_path / "audit.key")
    env = {"SECURECOMM_AUDIT_SIGNING_KEY": str(key)}
    _fill(db)
    result = run("audit", "checkpoint", "--url", db.url, "--json", **env)
    assert result.exit_code == 0, result.output
    head = json.loads(result.output)
    assert head["tree_size"] == 6 and head["signature"] and head["key_id"]
    trusted = tmp_path / "heads.jsonl"
    trusted.write_text(result.output)
    result = run("audit", "verify", "--url", db.url, "--trusted", str(trusted), **env)
    assert result.exit_code == 0, result.output
    assert "1 trusted tree head(s) consistent" in result.output
    result = run("audit", "checkpoint", "--url", db.url, **env)
    assert "checkpoint: 6 entries" in result.output and "unsigned" not in result.output
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = 6"))
    result = run("audit", "checkpoint", "--url", db.url)
    assert result.exit_code == 1 and "refusing to checkpoint" in result.output


def test_audit_on_an_unmigrated_database_says_so(fresh_url):
    result = run("audit", "verify", "--url", fresh_url())
    assert result.exit_code == 2
    assert "securecomm db upgrade" in result.output
    result = run("db", "current", "--url", "nonsense://")
    assert result.exit_code == 2
