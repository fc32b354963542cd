"""``securecomm submissions list|retry``: a submission that failed in a stage is re-queued in
that stage, audited, idempotently; bad input is refused with a message naming the option."""

from __future__ import annotations

import json

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from typer.testing import CliRunner

from securecomm.interop import stages, worker
from securecomm.interop.commands import register
from securecomm.store import audit
from securecomm.store.errors import InputError, NotFoundError
from securecomm.store.models import AuditEntry, PipelineStage, Submission, SubmissionState
from securecomm.store.repositories import retry_failed_submissions

runner = CliRunner()


def _fail_stage(monkeypatch, stage: PipelineStage, tcn: str) -> None:
    """Make ``stage`` raise whenever its batch holds ``tcn`` (a bug meeting one booking)."""

    def wrap(spec):
        if spec.stage is not stage:
            return spec

        def run(session, ctx, items):
            if any(i.tcn == tcn for i in items):
                raise RuntimeError(f"synthetic fault on {tcn}")
            return spec.run(session, ctx, items)

        return stages.StageSpec(spec.stage, run, spec.needs_auto_accept)

    monkeypatch.setattr(worker, "AUTOMATIC", tuple(wrap(s) for s in stages.AUTOMATIC))


def _row(world, tcn: str) -> Submission:
    with world.session() as s:
        return s.scalar(select(Submission).where(Submission.tcn == tcn))


def _retries(world) -> list[AuditEntry]:
    with world.session() as s:
        return list(
            s.scalars(select(AuditEntry).where(AuditEntry.event_type == "submission.retried"))
        )


def test_a_failed_submission_is_retried_in_its_stage_and_then_completes(world, monkeypatch):
    lines = world.lines(12)
    world.submit(lines)
    target = json.loads(lines[0])["tcn"]
    _fail_stage(monkeypatch, PipelineStage.criminal_history, target)
    world.run()
    failed = _row(world, target)
    assert failed.state is SubmissionState.failed
    assert failed.stage is PipelineStage.criminal_history
    assert "synthetic fault" in failed.error
    # the other submissions went on
    assert world.stages().get("criminal_history", 0) == 0
    monkeypatch.setattr(worker, "AUTOMATIC", stages.AUTOMATIC)  # the bug is fixed

    with world.session() as s, s.begin():
        [(row, retried)] = retry_failed_submissions(s, tcns=[target], actor="ops:alice")
        assert retried and row.state is SubmissionState.received and row.error is None
    [entry] = _retries(world)
    assert entry.actor == "ops:alice"
    assert json.loads(entry.subject) == {"submission_id": failed.id, "tcn": target}
    assert "synthetic fault" in json.loads(entry.payload)["cleared_error"]

    # idempotent: a second retry changes nothing and audits nothing
    with world.session() as s, s.begin():
        [(row, retried)] = retry_failed_submissions(s, tcns=[target], actor="ops:alice")
        assert not retried
    assert len(_retries(world)) == 1

    world.run()
    done = _row(world, target)
    assert done.state is not SubmissionState.failed
    assert done.stage is not PipelineStage.criminal_history
    with world.session() as s:
        assert audit.verify(s).ok


def _app() -> typer.Typer:
    app = typer.Typer()
    cases_app = typer.Typer()
    app.add_typer(cases_app, name="cases")
    register(app, cases_app)
    return app


@pytest.fixture
def failed_world(world, monkeypatch):
    """Twelve submissions, two of them recorded as the worker records a failure (state
    ``failed``, the stage it failed in, the error); the CLI pointed at the database."""
    lines = world.lines(12)
    world.submit(lines)
    tcns = [json.loads(line)["tcn"] for line in lines[:2]]
    with world.session() as s, s.begin():  # as the worker records a failure
        for tcn in tcns:
            row = s.scalar(select(Submission).where(Submission.tcn == tcn))
            row.state = SubmissionState.failed
            row.error = "lesc: no IDENT match or candidate to resolve"
            row.stage = PipelineStage.lesc
    monkeypatch.setenv("SECURECOMM_DATABASE_URL", world.backend.url)
    world.failed = tcns  # type: ignore[attr-defined]
    return world


def _invoke(*args: str):
    return runner.invoke(_app(), list(args))


def test_cli_lists_failed_and_retries_all_of_them(failed_world):
    result = _invoke("submissions", "list", "--state", "failed", "--format", "json")
    assert result.exit_code == 0, result.output
    docs = json.loads(result.output)
    assert sorted(d["tcn"] for d in docs) == sorted(failed_world.failed)
    assert {d["stage"] for d in docs} == {"lesc"} and all("IDENT" in d["error"] for d in docs)

    result = _invoke("submissions", "retry", "--all-failed", "--format", "json")
    assert result.exit_code == 0, result.output
    docs = json.loads(result.output)
    assert sorted(d["tcn"] for d in docs) == sorted(failed_world.failed)
    assert all(d["retried"] and d["state"] == "processing" for d in docs)
    assert len(_retries(failed_world)) == 2
    result = _invoke("submissions", "list", "--state", "failed", "--format", "json")
    assert json.loads(result.output) == []
    # nothing failed any more: --all-failed is a no-op
    result = _invoke("submissions", "retry", "--all-failed")
    assert result.exit_code == 0 and "0 submission(s) re-queued" in result.output

    result = _invoke("submissions", "retry", "--tcn", failed_world.failed[0])
    assert result.exit_code == 0 and "left alone" in result.output
    assert len(_retries(failed_world)) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("submissions", "retry"), "--tcn"),
        (("submissions", "retry", "--tcn", "X", "--all-failed"), "--all-failed"),
        (("submissions", "retry", "--tcn", "NO-SUCH-TCN"), "NO-SUCH-TCN"),
        (("submissions", "list", "--state", "exploded"), "--state"),
        (("submissions", "list", "--limit", "0"), "--limit"),
        (("submissions", "list", "--format", "xml"), "--format"),
    ],
)
def test_cli_refuses_bad_input_naming_it(failed_world, args, message):
    result = _invoke(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert len(_retries(failed_world)) == 0
    with failed_world.session() as s:
        failed = s.scalars(select(Submission.tcn).where(Submission.state == "failed")).all()
    assert sorted(failed) == sorted(failed_world.failed)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(tcn=st.text(max_size=80))
def test_retry_with_any_tcn_text_is_refused_or_a_no_op(failed_world, tcn):
    """Whatever text arrives as a TCN: a named error, or (a real TCN) a retry -- never a crash
    and never a write to another submission."""
    known = set(failed_world.failed)
    with failed_world.session() as s:
        try:
            done = retry_failed_submissions(s, tcns=[tcn], actor="ops")
        except InputError as exc:
            assert exc.field.startswith("tcn")
            return
        except NotFoundError as exc:
            assert "tcn" in str(exc)
            return
        finally:
            s.rollback()  # leave the world as it was for the next example
        assert [r.tcn for r, _ in done] == [tcn] and tcn in known
