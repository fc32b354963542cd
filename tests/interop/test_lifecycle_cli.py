"""``securecomm detainers …`` and ``securecomm notices …``: thin commands over the lifecycle,
exit status 0 / 1 (domain error) / 2 (usage). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from securecomm.interop import detainer_commands, lifecycle
from securecomm.interop.detainer_commands import parse_duration, register
from securecomm.store.models import Detainer, DetainerKind, DetainerState


def _support():
    name = "_securecomm_lifecycle_test_support"
    if name not in sys.modules:
        path = Path(__file__).with_name("test_lifecycle_support.py")
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


S = _support()
lc_db = S.lc_db
world = S.world
NY, HI = S.NY, S.HI
NYZ = ZoneInfo("America/New_York")
ISSUED = datetime(2011, 9, 28, 14, 0, tzinfo=UTC)

app = typer.Typer()
register(app)
runner = CliRunner()


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch):
    """Rich wraps tables at the terminal width (80 under CliRunner): widen it for asserts."""
    monkeypatch.setattr(detainer_commands, "out", Console(width=250, highlight=False))


def run(db, *args: str):
    result = runner.invoke(app, [*args, "--url", db.url])
    return result


def make(world, case_id="c-1", kind=DetainerKind.detainer, ori=NY, charges=None) -> int:
    with world.db.session() as s, s.begin():
        world.case(s, case_id, ori=ori, charges=charges)
        d = lifecycle.lodge(
            s, case_id=case_id, officer_action_id=None, ori=ori, kind=kind, issued_at=ISSUED,
            actor="t", policy="tfsc-2011",
        )  # fmt: skip
        return d.id


def state(world, detainer_id: int) -> DetainerState:
    with world.db.session() as s:
        return s.get(Detainer, detainer_id).state


def test_the_main_cli_registers_the_commands():
    from securecomm.cli import app as main_app

    names = {group.name for group in main_app.registered_groups}
    assert {"detainers", "notices"} <= names


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4h", timedelta(hours=4)),
        ("90m", timedelta(minutes=90)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("2d", timedelta(days=2)),
        (" 1.5H ", timedelta(hours=1.5)),
        ("45s", timedelta(seconds=45)),
    ],
)
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "4", "h4", "4x", "4h-1m", "-4h", "4h 3"])
def test_parse_duration_refuses(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_release_eligible_local_time_due_show_and_custody(world):
    db = world.db
    did = make(world)
    result = run(db, "detainers", "release-eligible", str(did), "--at", "2011-09-30T17:00")
    assert result.exit_code == 0, result.output
    assert "hold until 2011-10-04T17:00:00-04:00" in result.stdout
    assert "holding" in result.stdout

    result = run(db, "detainers", "due", "--within", "4h", "--now", "2011-10-04T14:00-04:00")
    assert result.exit_code == 0, result.output
    assert "c-1" in result.stdout and "3h 00m" in result.stdout
    result = run(db, "detainers", "due", "--within", "1h", "--now", "2011-10-04T14:00-04:00")
    assert "No hold ends within 1h" in result.stdout
    result = run(
        db, "detainers", "due", "--within", "4h", "--ori", HI, "--now", "2011-10-04T14:00Z"
    )
    assert "No hold ends" in result.stdout

    result = run(db, "detainers", "list", "--state", "holding")
    assert result.exit_code == 0 and "c-1" in result.stdout
    result = run(db, "detainers", "show", str(did))
    assert result.exit_code == 0, result.output
    assert "release_eligible_reported" in result.stdout and "issued" in result.stdout

    result = run(db, "detainers", "custody", str(did), "--at", "2011-10-03T09:00")
    assert result.exit_code == 0, result.output
    assert state(world, did) is DetainerState.custody


def test_released_late_reports_the_violation(world):
    db = world.db
    did = make(world)
    assert (
        run(db, "detainers", "release-eligible", str(did), "--at", "2011-10-05T17:00").exit_code
        == 0
    )
    result = run(db, "detainers", "released", str(did), "--at", "2011-10-10T12:00")
    assert result.exit_code == 0, result.output
    assert "held past expiry" in result.stdout
    assert "7 counted hours" in result.stdout and "67 elapsed" in result.stdout
    result = run(db, "detainers", "violations")
    assert result.exit_code == 0 and str(did) in result.stdout


def test_expire_lift_disposition_and_notices(world):
    db = world.db
    holding = make(world, "c-1")
    to_lift = make(world, "c-2")
    conditional = make(world, "c-3", DetainerKind.conditional_detainer, charges=[S.LOITERING])
    run(db, "detainers", "release-eligible", str(holding), "--at", "2011-09-30T17:00")

    result = run(db, "detainers", "expire", "--now", "2011-10-04T16:00-04:00")
    assert result.exit_code == 0 and "No hold past" in result.stdout
    result = run(db, "detainers", "expire", "--now", "2011-10-04T17:00-04:00")
    assert result.exit_code == 0 and "Expired 1 hold" in result.stdout
    assert state(world, holding) is DetainerState.expired

    result = run(db, "detainers", "lift", str(to_lift), "--reason", "prosecutorial discretion")
    assert result.exit_code == 0, result.output
    assert state(world, to_lift) is DetainerState.lifted

    result = run(
        db, "detainers", "disposition", "c-3", "--charge", "0", "--disposition", "convicted",
        "--at", "2011-10-05T11:00",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"detainer {conditional}" in result.stdout and "active" in result.stdout
    assert state(world, conditional) is DetainerState.active

    result = run(db, "notices", "list", "--ori", NY)
    assert result.exit_code == 0, result.output
    for event in ("issued", "hold_until", "expired", "lifted", "activated"):
        assert event in result.stdout
    result = run(db, "notices", "list", "--case", "c-3", "--json")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["content"]["event"] for r in records] == ["issued", "activated"]
    assert set(records[0]["content"]["subject_notice"]) == {"en", "es", "fr", "pt", "zh_Hans", "vi"}


def test_usage_errors_exit_2(world):
    db = world.db
    did = make(world)
    for args in (
        ("detainers", "due", "--within", "4x"),
        ("detainers", "due", "--now", "2011-10-04T14:00"),  # no offset
        ("detainers", "expire", "--now", "yesterday"),
        ("detainers", "list", "--state", "gone"),
        ("detainers", "release-eligible", str(did), "--at", "Friday 5pm"),
        ("detainers", "release-eligible", str(did), "--at", "2011-09-30"),  # no time of day
        ("detainers", "release-eligible", str(did), "--at", "2011-03-13T02:30"),  # DST gap
        ("detainers", "disposition", "c-1", "--charge", "0", "--disposition", "pending"),
        ("detainers", "disposition", "c-1", "--charge", "-1", "--disposition", "convicted"),
        ("detainers", "release-eligible", str(did)),  # --at missing
        ("detainers", "show", "abc"),
    ):
        result = run(db, *args)
        assert result.exit_code == 2, (args, result.output)
    result = runner.invoke(app, ["notices", "subject-text", "--language", "de"])
    assert result.exit_code == 2
    assert "not available" in result.stderr
    assert state(world, did) is DetainerState.active


def test_domain_errors_exit_1(world, tmp_path):
    db = world.db
    did = make(world, "c-1", DetainerKind.conditional_detainer)
    result = run(db, "detainers", "release-eligible", str(did), "--at", "2011-09-30T17:00")
    assert result.exit_code == 1
    assert "pending_condition" in result.stderr and "report_release_eligible" in result.stderr
    result = run(db, "detainers", "custody", "424242")
    assert result.exit_code == 1 and "detainer 424242 does not exist" in result.stderr
    result = run(db, "detainers", "show", "424242")
    assert result.exit_code == 1
    result = run(
        db, "detainers", "disposition", "nope", "--charge", "0", "--disposition", "convicted"
    )
    assert result.exit_code == 1 and "'nope' does not exist" in result.stderr
    result = run(
        db, "detainers", "disposition", "c-1", "--charge", "5", "--disposition", "convicted"
    )
    assert result.exit_code == 1 and "no charge 5" in result.stderr
    empty = f"sqlite:///{tmp_path}/empty.db"
    result = runner.invoke(app, ["detainers", "list", "--url", empty])
    # a database that is missing or not migrated is a configuration error (exit 2), and
    # looking does not create it
    assert result.exit_code == 2 and "securecomm db upgrade" in result.stderr
    assert not (tmp_path / "empty.db").exists()


def test_subject_text_prints_every_language_with_the_hotline():
    result = runner.invoke(app, ["notices", "subject-text"])
    assert result.exit_code == 0
    for code in ("== en ==", "== es ==", "== fr ==", "== pt ==", "== zh_Hans ==", "== vi =="):
        assert code in result.stdout
    assert result.stdout.count("1-855-000-0000") == 6
    assert "placeholder" in result.stderr
    result = runner.invoke(
        app, ["notices", "subject-text", "-l", "es", "--kind", "notification_request"]
    )
    assert result.exit_code == 0 and "pedido a la agencia" in result.stdout
