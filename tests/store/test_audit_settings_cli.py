"""A bad audit setting (issue 9 item 1) stops every command that writes with one line naming
the setting and exit status 2, before any work is done: never ``internal error``."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from securecomm.cli import app
from securecomm.store.treeheads import ENV_CHECKPOINT_EVERY, ENV_SIGNING_KEY

runner = CliRunner()


@pytest.fixture
def migrated(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert runner.invoke(app, ["db", "upgrade", "--url", url]).exit_code == 0
    return url


def _bad_settings(tmp_path):
    readable = tmp_path / "world-readable.pem"
    readable.write_text("-----BEGIN PRIVATE KEY-----\n")
    readable.chmod(0o644)
    return {
        "checkpoint every 0": ({ENV_CHECKPOINT_EVERY: "0"}, ENV_CHECKPOINT_EVERY),
        "missing key file": ({ENV_SIGNING_KEY: str(tmp_path / "absent.pem")}, ENV_SIGNING_KEY),
        "world-readable key": ({ENV_SIGNING_KEY: str(readable)}, ENV_SIGNING_KEY),
    }


WRITERS = {
    "submit": lambda f, url: ["submit", str(f), "--url", url],
    "worker": lambda f, url: ["worker", "--until-idle", "--url", url],
    "cases decide": lambda f, url: [
        "cases",
        "decide",
        "c-1",
        "--officer",
        "o.ruiz",
        "--accept",
        "--url",
        url,
    ],
    "cases approve": lambda f, url: [
        "cases",
        "approve",
        "c-1",
        "--supervisor",
        "oce",
        "--url",
        url,
    ],
    "users add": lambda f, url: ["users", "add", "m.lee", "--role", "crcl", "--url", url],
    "users disable": lambda f, url: ["users", "disable", "m.lee", "--url", url],
}


@pytest.mark.parametrize("command", sorted(WRITERS))
@pytest.mark.parametrize("setting", ["checkpoint every 0", "missing key file",
                                     "world-readable key"])  # fmt: skip
def test_bad_audit_setting_is_a_one_line_usage_error(migrated, tmp_path, command, setting):
    env, name = _bad_settings(tmp_path)[setting]
    booking = tmp_path / "b.jsonl"
    booking.write_text('{"tcn": "T-1"}\n')
    result = runner.invoke(app, WRITERS[command](booking, migrated), env=env)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {name}: "), result.stderr
    assert "internal error" not in result.output and "Traceback" not in result.output
    # refused before any work: the line was neither stored nor rejected
    assert "rejected" not in result.output


def test_reading_commands_do_not_need_the_signing_key(migrated, tmp_path):
    result = runner.invoke(app, ["status", "--url", migrated],
                           env={ENV_SIGNING_KEY: str(tmp_path / "absent.pem")})  # fmt: skip
    assert result.exit_code == 0, result.output


def test_an_audit_setting_raised_mid_write_is_mapped_too():
    from securecomm.cli.preamble import USAGE, describe_fault
    from securecomm.store.treeheads import AuditConfigError

    found = describe_fault(AuditConfigError(f"{ENV_CHECKPOINT_EVERY}: 0 is outside 1..10"))
    assert found is not None and found.code == USAGE
    assert found.message.startswith(ENV_CHECKPOINT_EVERY)


def test_worker_preflight_checks_the_audit_settings(monkeypatch):
    from securecomm.preflight import PreflightError, check_audit_settings

    monkeypatch.setenv(ENV_CHECKPOINT_EVERY, "0")
    with pytest.raises(PreflightError, match=ENV_CHECKPOINT_EVERY):
        check_audit_settings()
    monkeypatch.setenv(ENV_CHECKPOINT_EVERY, "5")
    check_audit_settings()
