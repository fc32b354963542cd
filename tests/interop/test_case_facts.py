"""Facts the repositories do not hold (victim certifications, interview findings) reach the
recommendation: at case assembly when recorded before the booking is processed, and by
re-computation when recorded after the decision but before an officer acted. Both backends."""

from __future__ import annotations

import json

import pytest
from interop_helpers import T_NOW
from sqlalchemy import select
from typer.testing import CliRunner

from securecomm.interop import field_office as fo
from securecomm.interop.stages import case_id_for, recommend
from securecomm.law.schema import Case
from securecomm.store import audit, repositories
from securecomm.store.models import AuditEntry, CaseRecord, CaseState, DecisionRecord

VICTIM = {"crime_victim": True}
CERT = "Form I-918 Supplement B, Travis County DA (synthetic)"


@pytest.fixture
def waiting(world):
    """The world processed with no simulated officers: cases wait for people."""
    world.submit()
    world.run(auto_accept=False)
    return world


def _victim_flips(world) -> list[str]:
    """Cases recommended ``detainer`` whose recommendation under the same pack, were the
    person a certified crime victim, is ``no_detainer`` (protected, not aggravating)."""
    out = []
    with world.session() as s:
        rows = s.execute(
            select(CaseRecord.case_id, CaseRecord.case_json)
            .join(DecisionRecord, DecisionRecord.case_id == CaseRecord.case_id)
            .where(
                CaseRecord.state == CaseState.awaiting_officer,
                DecisionRecord.action == "detainer",
                DecisionRecord.requires_supervisor_approval.is_(False),
            )
            .order_by(CaseRecord.case_id)
        ).all()
    for cid, doc in rows:
        case = Case.model_validate(doc)
        flagged = Case.model_validate({**doc, "flags": {**doc["flags"], **VICTIM}})
        if recommend(world.settings, case).action.value != "detainer":
            continue
        if recommend(world.settings, flagged).action.value == "no_detainer":
            out.append(cid)
    return out


def _latest(world, case_id: str) -> DecisionRecord:
    with world.session() as s:
        row = repositories.latest_decision(s, case_id)
        s.expunge_all()
        return row


def test_a_certification_recorded_before_processing_reaches_the_case(waiting):
    flips = _victim_flips(waiting)
    assert flips, "the world has no detainer case a victim certification would change"
    # the same person booked again under a new TCN, certified before the booking is processed
    tcn = flips[0].removeprefix("C-")
    line = next(ln for ln in waiting.lines() if json.loads(ln)["tcn"] == tcn)
    again = {**json.loads(line), "tcn": f"{tcn}V"}
    new_case = case_id_for(again["tcn"])
    with waiting.session() as s, s.begin():
        outcome = fo.record_facts(
            s, new_case, VICTIM, source=CERT, officer="officer.ortiz", at=T_NOW
        )
    assert outcome.state is None and not outcome.recomputed
    waiting.submit([json.dumps(again)])
    waiting.run(auto_accept=False)
    with waiting.session() as s:
        row = s.get(CaseRecord, new_case)
        assert row.case_json["flags"]["crime_victim"] is True
        # the repositories' answer still stands for their own flags
        old = s.get(CaseRecord, flips[0]).case_json["flags"]
        for name in ("outstanding_criminal_warrant", "gang_member", "national_security"):
            assert row.case_json["flags"][name] == old[name]
        assert audit.verify(s).ok
    assert _latest(waiting, new_case).action.value == "no_detainer"
    assert _latest(waiting, flips[0]).action.value == "detainer"


def test_a_fact_recorded_after_the_decision_recomputes_until_an_officer_acts(waiting):
    flips = _victim_flips(waiting)
    case_id = flips[0]
    before = _latest(waiting, case_id)
    with waiting.session() as s, s.begin():
        outcome = fo.record_facts(
            s, case_id, VICTIM, source=CERT, officer="officer.ortiz",
            settings=waiting.settings, at=T_NOW,
        )  # fmt: skip
    assert outcome.recomputed and outcome.previous_action == "detainer"
    assert outcome.action == "no_detainer" and outcome.state is CaseState.awaiting_officer
    after = _latest(waiting, case_id)
    assert after.id != before.id and after.action.value == "no_detainer"
    assert after.case_sha256 != before.case_sha256
    with waiting.session() as s:
        case = s.get(CaseRecord, case_id)
        assert case.case_json["flags"]["crime_victim"] is True
        assert case.case_sha256 == after.case_sha256
        kinds = [
            e.event_type for e in s.scalars(select(AuditEntry).where(AuditEntry.case_id == case_id))
        ]
        assert {"case.fact_recorded", "case.document_updated", "decision.recorded"} <= set(kinds)
        assert audit.verify(s).ok
    # the officer decides on the re-computed recommendation ...
    with waiting.session() as s, s.begin():
        done = fo.decide(s, case_id, officer="officer.ortiz", accept=True, at=T_NOW)
    assert done.chosen_action == "no_detainer"
    # ... after which new facts are refused: the officer must override instead
    with waiting.session() as s, s.begin(), pytest.raises(fo.FieldOfficeError, match="override"):
        fo.record_facts(
            s, case_id, {"crime_witness": True}, source=CERT, officer="officer.ortiz",
            settings=waiting.settings, at=T_NOW,
        )  # fmt: skip
    with waiting.session() as s:
        assert [f.fact for f in repositories.list_case_facts(s, case_id)] == ["crime_victim"]
        assert audit.verify(s).ok


BAD = [
    ({"crime_victm": True}, CERT, "o1", "fact"),
    ({"outstanding_criminal_warrant": False}, CERT, "o1", "fact"),
    ({"crime_victim": "yes"}, CERT, "o1", "value"),
    ({"crime_victim": 1}, CERT, "o1", "value"),
    ({"crime_victim": True}, "   ", "o1", "source"),
    ({"crime_victim": True}, "", "o1", "source"),
    ({"crime_victim": True}, CERT, "auto-accept", "officer"),
    ({}, CERT, "o1", "facts"),
]


def test_bad_facts_are_refused_naming_the_field(waiting):
    case_id = _victim_flips(waiting)[0]
    for facts, source, officer, field in BAD:  # one world for all: seeding costs seconds
        with waiting.session() as s, s.begin(), pytest.raises(fo.FieldOfficeError) as exc:
            fo.record_facts(
                s, case_id, facts, source=source, officer=officer, settings=waiting.settings,
                at=T_NOW,
            )  # fmt: skip
        assert str(exc.value).startswith(field), (facts, source, officer, str(exc.value))
    with waiting.session() as s:
        assert repositories.list_case_facts(s, case_id) == []
    assert _latest(waiting, case_id).action.value == "detainer"


def test_cli_records_facts_and_shows_them(waiting, monkeypatch):
    from securecomm.cli import app

    case_id = _victim_flips(waiting)[0]
    monkeypatch.setenv("SECURECOMM_DATA_DIR", str(waiting.data_dir))
    url = waiting.backend.url
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["cases", "facts", case_id, "--fact", "crime_victim", "--fact",
         "indigent=false", "--source", CERT, "--officer", "officer.ortiz", "--url", url,
         "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["recomputed"] and doc["action"] == "no_detainer"
    assert doc["facts"] == {"crime_victim": True, "indigent": False}
    shown = runner.invoke(app, ["cases", "show", case_id, "--url", url, "--format", "json"])
    assert shown.exit_code == 0, shown.output
    facts = json.loads(shown.stdout)["facts"]
    assert [(f["fact"], f["value"], f["source"]) for f in facts] == [
        ("crime_victim", True, CERT), ("indigent", False, CERT)
    ]  # fmt: skip
    text = runner.invoke(app, ["cases", "show", case_id, "--url", url])
    assert "fact crime_victim=true - source: Form I-918" in text.stdout
    bad = runner.invoke(
        app,
        ["cases", "facts", case_id, "--fact", "crime_victim=maybe", "--source", CERT,
         "--officer", "o1", "--url", url],
    )  # fmt: skip
    assert bad.exit_code != 0 and "maybe" in bad.output


def test_a_retraction_back_to_an_earlier_document_is_refused_not_misreported(waiting):
    case_id = _victim_flips(waiting)[0]
    kw = {"source": CERT, "officer": "officer.ortiz", "settings": waiting.settings, "at": T_NOW}
    with waiting.session() as s, s.begin():
        fo.record_facts(s, case_id, VICTIM, **kw)
    # raised through the transaction, which rolls back (as the CLI's does)
    with pytest.raises(fo.FieldOfficeError, match="earlier"), waiting.session() as s, s.begin():
        fo.record_facts(s, case_id, {"crime_victim": False}, **kw)
    # rolled back: the re-computed recommendation stands, with its one fact
    assert _latest(waiting, case_id).action.value == "no_detainer"
    with waiting.session() as s:
        assert [f.value for f in repositories.list_case_facts(s, case_id)] == [True]
