"""The pipeline CLI end to end on both backends: world seed -> submit -> worker -> cases,
detainers, notices and the audit log inspected; officers decide from the command line."""

from __future__ import annotations

import json

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from securecomm.interop.commands import register
from securecomm.store.db import make_engine, session_factory
from securecomm.store.models import CaseRecord, DecisionRecord, IdentityVerification

runner = CliRunner()


def _app() -> typer.Typer:
    from securecomm.store.commands import audit_app, db_app
    from securecomm.users.commands import users_app

    app = typer.Typer()
    cases_app = typer.Typer()
    app.add_typer(cases_app, name="cases")
    app.add_typer(db_app, name="db")
    app.add_typer(audit_app, name="audit")
    app.add_typer(users_app, name="users")
    register(app, cases_app)
    return app


@pytest.fixture
def cli(fresh_url, tmp_path, monkeypatch):
    url = fresh_url()
    monkeypatch.setenv("SECURECOMM_DATABASE_URL", url)
    monkeypatch.setenv("SECURECOMM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SECURECOMM_PIPELINE_CONFIG", raising=False)
    monkeypatch.delenv("SECURECOMM_POLICY_SCHEDULE", raising=False)
    app = _app()

    def run(*args: str, code: int | None = 0):
        result = runner.invoke(app, list(args))
        if code is not None:
            assert result.exit_code == code, (args, result.output, getattr(result, "stderr", ""))
        return result

    run.url = url  # type: ignore[attr-defined]
    run.tmp = tmp_path  # type: ignore[attr-defined]
    return run


def _pick(url, *, action=None, rule=None):
    engine = make_engine(url)
    try:
        with session_factory(engine)() as s:
            rows = s.execute(
                select(CaseRecord.case_id, DecisionRecord.decision)
                .join(DecisionRecord)
                .where(CaseRecord.state == "awaiting_officer")
                .order_by(CaseRecord.case_id)
            ).all()
            tasks = s.scalars(
                select(IdentityVerification.case_id).where(IdentityVerification.state == "open")
            ).all()
    finally:
        engine.dispose()
    for cid, d in rows:
        decisive = next(r["rule"] for r in d["reasons"] if r["text"].startswith("Decisive"))
        wanted = (action is None or d["action"] == action) and (rule is None or decisive == rule)
        if wanted and not d["requires_supervisor_approval"]:
            yield cid
    if action == "verify":
        yield from tasks


def test_cli_end_to_end(cli):
    tmp = cli.tmp
    out = cli("world", "seed", "--persons", "300", "--bookings", "400", "--seed", "5",
              "--out", str(tmp / "b.jsonl"), "--no-biographic-model").output  # fmt: skip
    assert "bookings 400" in out and (tmp / "b.truth.jsonl").is_file()
    cli("world", "seed", "--out", str(tmp / "again.jsonl"), "--no-biographic-model", code=1)

    res = cli("submit", str(tmp / "b.jsonl"), "--format", "json")
    assert json.loads(res.stdout) == {
        "read": 400,
        "accepted": 400,
        "duplicates": 0,
        "rejected": 0,
        "rejected_known": 0,
        "blank": 0,
    }
    lines = (tmp / "b.jsonl").read_text().splitlines()
    bad = json.loads(lines[0])
    bad["tcn"], bad["charges"][0]["ncic"] = "BAD-1", "99x9"
    (tmp / "bad.jsonl").write_text(lines[1] + "\n" + json.dumps(bad) + "\n")
    res = cli("submit", str(tmp / "bad.jsonl"), code=1)
    assert "1 duplicate" in res.stdout and "1 rejected" in res.stdout
    assert "charges.0.ncic" in res.stderr

    # fail closed (issue 9 item 4): IDENT holds encounters but there is no biographic model,
    # so the worker refuses to start rather than skip the name-based immigration check
    before = json.loads(cli("status", "--format", "json").stdout)["submissions"]
    res = cli("worker", "--until-idle", code=2)
    assert "biographic model: missing" in res.stderr and "Traceback" not in res.output
    assert json.loads(cli("status", "--format", "json").stdout)["submissions"] == before
    cli("worker", "--max-batches", "-1", code=2)
    assert "biographic model" in cli("ident", "rebuild", "--biographic-model").stdout

    res = cli("worker", "--until-idle", "--format", "json")  # officers are people here
    doc = json.loads(res.stdout)
    assert doc["failed"] == 0 and doc["stages"].get("officer", 0) > 0

    # the people who act are registered users (--as USER); officer.a may also supervise
    cli("users", "add", "officer.a", "--role", "ice_supervisor", "--area", "DAL")
    cli("users", "add", "supervisor.b", "--role", "ice_supervisor", "--area", "DAL")
    cli("users", "add", "examiner.c", "--role", "ice_officer", "--area", "DAL")
    accept = next(_pick(cli.url, action="detainer"))
    res = cli("cases", "decide", accept, "--as", "nobody.here", "--accept", code=1)
    assert "not a registered user" in res.stderr
    res = cli("cases", "decide", accept, "--as", "officer.a", "--accept", "--format", "json")
    assert json.loads(res.stdout)["state"] == "acted"
    safeguard = next(_pick(cli.url, action="no_detainer", rule="actions.tfsc.minor-traffic-only"))
    cli(
        "cases", "decide", safeguard, "--officer", "officer.a", "--override", "detainer", code=1
    )  # no reason
    res = cli("cases", "decide", safeguard, "--officer", "officer.a", "--override", "detainer",
              "--reason", "prior failures to appear")  # fmt: skip
    assert "awaiting_supervisor" in res.stdout and "needs a supervisor" in res.stdout
    res = cli("cases", "approve", safeguard, "--supervisor", "officer.a", code=1)
    assert "second user" in res.stderr
    res = cli("cases", "approve", safeguard, "--as", "examiner.c", code=1)
    assert "ice_supervisor is required" in res.stderr
    cli("cases", "approve", safeguard, "--as", "supervisor.b")
    verify = next(_pick(cli.url, action="verify"))
    cli("cases", "verify-identity", verify, "--officer", "examiner.c", code=2)  # neither flag
    cli("cases", "verify-identity", verify, "--officer", "examiner.c", "--confirm")

    res = cli("worker", "--until-idle", "--auto-accept", "--format", "json")
    assert json.loads(res.stdout)["failed"] == 0
    status = json.loads(cli("status", "--format", "json").stdout)
    assert status["rejected_inputs"] == 1 and status["submissions"]["done"] > 300

    shown = json.loads(cli("cases", "show", safeguard, "--format", "json").stdout)
    assert [a["kind"] for a in shown["officer_actions"]] == ["override", "supervisor_approval"]
    assert [d["kind"] for d in shown["detainers"]] == ["detainer"]
    assert {n["kind"] for n in shown["notices"]} >= {"submission_response", "detainer_issued"}
    events = [e["event_type"] for e in shown["audit"]]
    assert events[0] == "decision.recorded" and "detainer.issued" in events
    assert shown["decisions"][0]["decision"]["reasons"]
    text_view = cli("cases", "show", safeguard).stdout
    assert "actions.tfsc.minor-traffic-only" in text_view and "supervisor_approval" in text_view

    # --format json: one JSON document, an array for a list command
    listed = json.loads(
        cli("cases", "list", "--state", "acted", "--format", "json", "--limit", "1000").stdout
    )
    assert safeguard in {r["case_id"] for r in listed}
    ori = listed[0]["ori"]
    by_ori = json.loads(cli("cases", "list", "--ori", ori, "--format", "json").stdout)
    assert by_ori and all(r["ori"] == ori for r in by_ori)
    cli("cases", "list", "--state", "nonsense", code=2)
    cli("cases", "show", "C-missing", code=1)

    res = cli("audit", "verify")
    assert "intact" in res.stdout
    stats = json.loads(cli("ident", "stats", "--format", "json").stdout)
    assert all(g["fresh"] for g in stats["galleries"]) and stats["match_threshold"] == 0.75
    assert "subjects" in cli("ident", "rebuild").stdout


def test_main_cli_has_the_pipeline_commands():
    from securecomm.cli import app

    res = runner.invoke(app, ["--help"])
    for name in ("submit", "worker", "world", "ident", "status"):
        assert name in res.stdout
    res = runner.invoke(app, ["cases", "--help"])
    for name in ("list", "show", "decide", "approve", "verify-identity", "to-parquet"):
        assert name in res.stdout
