"""Booking outcome v1 exported from the pipeline's store (stats/from_store.py), on SQLite and
PostgreSQL (a fresh schema per run; skipped when the server is unreachable unless
SECURECOMM_REQUIRE_POSTGRES=1)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "synth"))
from _pipeline_fixtures import build_store, drop_pg, make_nation, pg_url

from securecomm.interop import field_office, lifecycle
from securecomm.interop.intake import submit_bookings
from securecomm.interop.stages import case_id_for
from securecomm.interop.worker import run_worker
from securecomm.law.engine import CompiledPack
from securecomm.policy_files import load_policy
from securecomm.stats.categories import charge_category_of
from securecomm.stats.from_store import StoreExportError, booking_outcomes_from_store
from securecomm.stats.schema import BOOKING_OUTCOME_SCHEMA, DECLINE_REASON_BY_RULE
from securecomm.store.db import session_factory, upgrade
from securecomm.store.models import (
    CaseRecord,
    CaseState,
    DecisionRecord,
    Detainer,
    DetainerState,
    RejectedInput,
)
from securecomm.synth.lea import drive_lifecycle
from securecomm.synth.to_world import flat_record
from securecomm.users.service import add_user

POLICY = "tfsc-2011"


@pytest.fixture(scope="module")
def nation():
    # late February into March: local and UTC months differ for some evening bookings
    return make_nation(70, seed=31, start=dt.date(2012, 2, 26), days=8)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store(request, nation, tmp_path_factory):
    """The nation through the pipeline with officers: one case overridden by hand, the rest
    accepted; one malformed line submitted (rejected); the LEAs driven."""
    tmp = tmp_path_factory.mktemp(f"export-{request.param}")
    url = f"sqlite:///{tmp}/s.db" if request.param == "sqlite" else pg_url()
    engine, _world, settings = build_store(nation, url, tmp, policy=POLICY, auto_accept=False)
    sf = session_factory(engine)
    try:
        with sf() as s, s.begin():
            # the officer is a registered user (--as USER)
            add_user(s, "officer-sim", "ice_officer", areas=["DAL"], actor="admin-cli")
            waiting = s.execute(
                select(CaseRecord.case_id)
                .join(DecisionRecord, DecisionRecord.case_id == CaseRecord.case_id)
                .where(CaseRecord.state == CaseState.awaiting_officer,
                       DecisionRecord.action == "detainer")
                .order_by(CaseRecord.case_id)
            ).scalars().first()  # fmt: skip
            assert waiting is not None
            field_office.decide(
                s, waiting, officer="officer-sim", override="no_detainer",
                reason="synthetic override for the export test",
                at=dt.datetime(2012, 3, 20, tzinfo=dt.UTC),
            )  # fmt: skip
        later = dt.datetime(2012, 3, 21, tzinfo=dt.UTC)
        run_worker(engine, settings=settings, auto_accept=True, clock=lambda: later)
        bad = submit_bookings(sf, ['{"format": "booking/1", "tcn": "BAD-1"}'], now=lambda: later)
        assert bad.rejected == 1
        drive_lifecycle(sf, nation, seed=7)
        yield engine, waiting
    finally:
        engine.dispose()
        if request.param == "postgresql":
            drop_pg(url)


def test_schema_and_one_row_per_submission(store, nation):
    engine, _ = store
    table = booking_outcomes_from_store(engine)  # the store's one policy
    assert table.schema == BOOKING_OUTCOME_SCHEMA
    assert sorted(table.column("tcn").to_pylist()) == sorted(nation.column("tcn").to_pylist())
    with session_factory(engine)() as s:
        assert s.scalar(select(RejectedInput.id)) is not None  # kept, but not a booking
    assert set(table.column("policy").to_pylist()) == {POLICY}
    assert set(table.column("removed").to_pylist()) == {False}


def test_columns_follow_the_store_and_the_nation(store, nation):
    engine, overridden = store
    out = {r["tcn"]: r for r in booking_outcomes_from_store(engine, policy=POLICY).to_pylist()}
    compiled = CompiledPack(load_policy(POLICY))
    local_differs = 0
    for row in nation.to_pylist():
        got = out[row["tcn"]]
        zone = ZoneInfo(row["jurisdiction_timezone"])
        assert got["month"] == row["booked_at"].astimezone(zone).date().replace(day=1)
        local_differs += got["month"] != row["booked_at"].date().replace(day=1)
        assert (got["ori"], got["state"], got["county_fips"]) == (
            row["jurisdiction_ori"], row["jurisdiction_state"], row["jurisdiction_county_fips"]
        )  # fmt: skip
        assert (got["race"], got["ethnicity"]) == (row["race"], row["ethnicity"])
        assert got["ident_match"] == row["ident_match"]
        assert got["charge_category"] == charge_category_of(row["charges"])
        if not (
            row["ident_enrolled"] and not row["ident_match"]
        ):  # a missed capture: no FBI search
            assert got["conviction_status"] == row["conviction_status"], row["tcn"]
        if not row["ident_match"]:
            assert got["status_category"] is None and got["action"] is None
            assert got["level"] is None and not got["ice_custody"]
            continue
        assert got["status_category"] == row["person_citizenship_status"]
        outcome = compiled.evaluate(flat_record(row))
        decision = compiled.decide_record(flat_record(row))
        assert got["action_rule"] == outcome["action_rule"]
        assert got["level"] == decision.level and got["priority"] == decision.priority
        assert got["priority_bases"] == list(decision.priority_bases)
        if case_id_for(row["tcn"]) == overridden:
            assert got["action"] == "no_detainer" != decision.action.value
            assert got["decline_reason"] is None  # the officer's reason is not a rule
        else:
            assert got["action"] == decision.action.value
            if got["action"] == "no_detainer":
                assert got["decline_reason"] == DECLINE_REASON_BY_RULE.get(got["action_rule"])
    assert local_differs > 0  # the month boundary was exercised
    with session_factory(engine)() as s:
        custody = set(
            s.scalars(select(Detainer.case_id).where(Detainer.state == DetainerState.custody))
        )
        violated = {d.case_id for d, _ in lifecycle.violations(s)}
    assert custody
    assert {t for t, r in out.items() if r["ice_custody"]} == {c[2:] for c in custody}
    assert {t for t, r in out.items() if r["held_past_expiry"]} == {c[2:] for c in violated}


def test_policy_choice(store):
    engine, _ = store
    other = booking_outcomes_from_store(engine, policy="pep-2014")  # nothing decided under it
    assert set(other.column("action").to_pylist()) == {None}
    assert set(other.column("policy").to_pylist()) == {"pep-2014"}
    with pytest.raises(StoreExportError, match="policy"):
        booking_outcomes_from_store(engine, policy="  ")


def test_an_empty_store_needs_a_policy(tmp_path):
    url = f"sqlite:///{tmp_path}/e.db"
    upgrade(url)
    with pytest.raises(StoreExportError, match="no policy"):
        booking_outcomes_from_store(url)
    table = booking_outcomes_from_store(url, policy=POLICY)
    assert table.num_rows == 0 and table.schema == BOOKING_OUTCOME_SCHEMA


def test_export_runs_a_fixed_number_of_queries(store):
    """Bulk queries, never one per case: the statement count does not grow with the rows."""
    from sqlalchemy import event

    engine, _ = store
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        table = booking_outcomes_from_store(engine, policy=POLICY)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert table.num_rows > 50
    assert len(statements) <= 15, statements


def test_cli_exports_the_store_for_the_statistics(store, tmp_path):
    import typer
    from typer.testing import CliRunner

    from securecomm.stats.commands import stats_app
    from securecomm.stats.monthly import monthly_statistics_table

    engine, _ = store
    app = typer.Typer()
    app.add_typer(stats_app, name="stats")
    url = engine.url.render_as_string(hide_password=False)
    out = tmp_path / "outcomes.parquet"
    result = CliRunner().invoke(app, ["stats", "from-store", "--url", url, "--out", str(out)])
    assert result.exit_code == 0, result.output
    exported = pq.read_table(out)
    assert exported.equals(booking_outcomes_from_store(engine))
    long = monthly_statistics_table(out)
    submissions = long.filter(pc.equal(long["measure"], "submissions"))
    assert pc.sum(submissions["count"]).as_py() == exported.num_rows > 0


def test_cli_export_bad_input_names_the_option(tmp_path):
    import typer
    from typer.testing import CliRunner

    from securecomm.stats.commands import stats_app

    app = typer.Typer()
    app.add_typer(stats_app, name="stats")
    url = f"sqlite:///{tmp_path}/e.db"
    upgrade(url)
    runner = CliRunner()
    r = runner.invoke(app, ["stats", "from-store", "--url", url, "--out", str(tmp_path / "x.csv")])
    assert r.exit_code == 2 and "--out" in r.output
    r = runner.invoke(
        app, ["stats", "from-store", "--url", url, "--out", str(tmp_path / "x.parquet")]
    )
    assert r.exit_code == 2 and "policy" in r.output  # an empty store says nothing of its policy
    missing = f"sqlite:///{tmp_path}/nowhere/none.db"
    r = runner.invoke(
        app, ["stats", "from-store", "--url", missing, "--out", str(tmp_path / "y.parquet")]
    )
    assert r.exit_code == 2 and "--url" in r.output
    assert not (tmp_path / "y.parquet").exists()


# --------------------------------------------------------------------------- audit head (issue 9)


def test_store_statistics_carry_a_signed_audit_head_that_verifies(store, tmp_path, monkeypatch):
    """`stats from-store` writes the audit log's signed tree head beside the statistics, and
    a reader who kept it checks it with `audit verify --since` (store engineer)."""
    import json

    from typer.testing import CliRunner

    from securecomm.cli import app
    from securecomm.store import treeheads

    engine, _ = store
    key, pub, key_id = treeheads.generate_key(tmp_path / "audit.key")
    monkeypatch.setenv(treeheads.ENV_SIGNING_KEY, str(key))
    url = engine.url.render_as_string(hide_password=False)
    out = tmp_path / "published" / "outcomes.parquet"
    runner = CliRunner()
    result = runner.invoke(app, ["stats", "from-store", "--url", url, "--out", str(out)])
    assert result.exit_code == 0, result.output
    head_path = out.parent / "audit-head.json"
    assert str(head_path) in result.stderr and "signed" in result.stderr
    head = treeheads.SignedTreeHead.from_json(head_path.read_text(encoding="utf-8"))
    assert head.key_id == key_id and head.verify_signature(treeheads.load_public_key(str(pub)))
    assert head.tree_size > 0
    verified = runner.invoke(
        app, ["audit", "verify", "--url", url, "--since", str(head_path), "--format", "json"]
    )
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout)["since"][0]["ok"] is True
    # a head that was altered after publication does not verify
    forged = json.loads(head_path.read_text(encoding="utf-8"))
    forged["tree_size"] -= 1
    (tmp_path / "forged.json").write_text(json.dumps(forged), encoding="utf-8")
    refused = runner.invoke(app, ["audit", "verify", "--url", url, "--since",
                                  str(tmp_path / "forged.json")])  # fmt: skip
    assert refused.exit_code != 0


def test_bad_audit_setting_stops_the_export_before_it_writes(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from securecomm.cli import app

    url = f"sqlite:///{tmp_path}/e.db"
    upgrade(url)
    monkeypatch.setenv("SECURECOMM_AUDIT_SIGNING_KEY", str(tmp_path / "absent.pem"))
    out = tmp_path / "o.parquet"
    r = CliRunner().invoke(app, ["stats", "from-store", "--url", url, "--out", str(out)])
    assert r.exit_code == 2 and "error: SECURECOMM_AUDIT_SIGNING_KEY: " in r.stderr
    assert not out.exists()
