"""LEA notices (issue 3 item 7; DESIGN 3.8; report IV.3, IV rec. 3): submission responses and
decision notices filtered by the decision's disclosure fields, idempotent; the naturalized
citizen never gets hit information under the Task Force packs, end to end through
``CompiledPack.decide``. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from securecomm.interop import lifecycle, notices
from securecomm.interop.notices import NoticeError
from securecomm.law.engine import CompiledPack
from securecomm.law.packs import PACKS
from securecomm.law.schema import Case, Decision
from securecomm.store.errors import ConflictError
from securecomm.store.models import DetainerKind, Notice, NoticeKind, Submission


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
counts = S.counts
NY, CO = S.NY, S.CO

AT = datetime(2011, 9, 28, 15, 0, tzinfo=UTC)
FACTS: dict[str, Any] = {
    "identity": {"fbi_number": "123456AB7", "name": "DOE, JOHN"},
    "aliases": ["JUAN DOE", "J. DOE"],
    "warrants": [{"agency": "TX2270000", "offense": "FAILURE TO APPEAR"}],
    "watch_list": False,
    "gang": None,
    "immigration_status": "entered_without_inspection",
}
HIT_FIELDS = ("identity", "aliases", "warrants", "watch_list", "gang", "immigration_status")


def decide(pack: str, **person: Any) -> Decision:
    document = S.case_document("c-1", NY, [S.LOITERING], **person)
    return CompiledPack(PACKS[pack]).decide(Case.model_validate(document))


def all_keys(value: Any) -> set[str]:
    """Every mapping key anywhere in a JSON document."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in all_keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in all_keys(v)}
    return set()


# --------------------------------------------------------------------------- submission responses


def test_submission_response_is_idempotent_on_the_tcn(world):
    db = world.db
    content = {"tcn": "TCN-c-1", "status": "accepted", "criminal_history": "identified"}
    with db.session() as s, s.begin():
        world.case(s, "c-1")
        submission = s.scalar(select(Submission))
        notice = notices.send_submission_response(
            s, submission_id=submission.id, ori=NY, tcn="TCN-c-1", content=content, at=AT
        )
        assert notice.kind is NoticeKind.submission_response
        assert notice.idempotency_key == "submission-response:TCN-c-1"
        assert notice.content == content
        assert notice.submission_id == submission.id
    with db.session() as s, s.begin():
        before = counts(s)
        again = notices.send_submission_response(
            s, submission_id=submission.id, ori=NY, tcn="TCN-c-1", content=dict(content), at=AT
        )
        assert again.id == notice.id
        assert counts(s) == before
        with pytest.raises(ConflictError, match="different content"):
            notices.send_submission_response(
                s, submission_id=submission.id, ori=NY, tcn="TCN-c-1",
                content={**content, "status": "rejected"}, at=AT,
            )  # fmt: skip


def test_submission_response_checks_the_submission(world):
    with world.db.session() as s, s.begin():
        world.case(s, "c-1")
        sid = s.scalar(select(Submission)).id
        ok = {"submission_id": sid, "ori": NY, "tcn": "TCN-c-1", "content": {}, "at": AT}
        for change, message in (
            ({"ori": CO}, "came from NY0300000, not CO0010000"),
            ({"tcn": "TCN-other"}, "has TCN 'TCN-c-1', not 'TCN-other'"),
            ({"submission_id": 98765}, "submission 98765 does not exist"),
            ({"submission_id": "1"}, "submission_id: expected an integer id"),
            ({"at": datetime(2011, 9, 28, 15, 0)}, "at: naive datetime"),
            ({"content": ["not", "a", "mapping"]}, "content: expected a mapping"),
        ):
            with pytest.raises(NoticeError, match=message):
                notices.send_submission_response(s, **{**ok, **change})
        assert s.scalar(select(Notice)) is None


# --------------------------------------------------------------------------- decision notices


@pytest.mark.parametrize(
    ("disclosure", "expected"),
    [
        ("full", set(HIT_FIELDS)),
        ("public_safety_only", set(HIT_FIELDS) - {"immigration_status"}),
        ("none", set()),
    ],
)
def test_decision_notice_carries_only_the_disclosed_fields(world, disclosure, expected):
    decision = decide("tfsc-2011", disclosure=disclosure)
    assert decision.action.value == "conditional_detainer"
    with world.db.session() as s, s.begin():
        world.case(s, "c-1")
        notice = notices.send_decision_notice(
            s, case_id="c-1", ori=NY, decision=decision, facts=FACTS, at=AT
        )
        assert notice is not None  # a detainer is always delivered
        assert notice.kind is NoticeKind.case_update
        assert set(notice.content["disclosed"]) == expected
        assert set(notice.content["disclosed"]) <= set(decision.lea_disclosure.fields)
        assert notice.content["requests"] == ["detainer"]
        for name in expected:
            assert notice.content["disclosed"][name] == FACTS[name]
        assert notice.idempotency_key == "decision:c-1:tfsc-2011:2.0.0"


def test_decision_notice_is_idempotent_and_returns_none_without_notify(world):
    db = world.db
    decision = decide("tfsc-2011")
    with db.session() as s, s.begin():
        world.case(s, "c-1")
        first = notices.send_decision_notice(
            s, case_id="c-1", ori=NY, decision=decision, facts=FACTS, at=AT
        )
    with db.session() as s, s.begin():
        before = counts(s)
        again = notices.send_decision_notice(
            s, case_id="c-1", ori=NY, decision=decision, facts=dict(FACTS), at=AT
        )
        assert again.id == first.id
        assert counts(s) == before
        quiet = decision.model_copy(
            update={"lea_disclosure": decision.lea_disclosure.model_copy(update={"notify": False})}
        )
        assert (
            notices.send_decision_notice(
                s, case_id="c-1", ori=NY, decision=quiet, facts=FACTS, at=AT
            )
            is None
        )
        assert counts(s) == before


def test_decision_notice_refuses_what_it_cannot_send(world):
    decision = decide("tfsc-2011")
    with world.db.session() as s, s.begin():
        world.case(s, "c-1")
        ok = {"case_id": "c-1", "ori": NY, "decision": decision, "facts": FACTS, "at": AT}
        missing = {k: v for k, v in FACTS.items() if k != "aliases"}
        for change, error, message in (
            ({"ori": CO}, NoticeError, "belongs to NY0300000, not CO0010000"),
            ({"case_id": "c-2"}, NoticeError, "decision.case_id: 'c-1' is not case 'c-2'"),
            ({"facts": missing}, NoticeError, "facts.aliases: the decision discloses"),
            ({"facts": "identity"}, NoticeError, "facts: expected a mapping"),
            ({"at": datetime(2011, 9, 28)}, NoticeError, "at: naive datetime"),
            ({"decision": {"case_id": "c-1"}}, NoticeError, "not a valid Decision v1"),
        ):
            with pytest.raises(error, match=message):
                notices.send_decision_notice(s, **{**ok, **change})
        assert s.scalar(select(Notice)) is None
        # A decision given as a JSON mapping is validated and accepted.
        notice = notices.send_decision_notice(
            s, **{**ok, "decision": decision.model_dump(mode="json")}
        )
        assert notice is not None
        # facts keys that were not disclosed never leak.
        extra = {**FACTS, "fingerprints": "x" * 10}
        assert "fingerprints" not in all_keys(
            notices.send_decision_notice(s, **{**ok, "facts": extra}).content
        )


def test_a_long_policy_name_gets_a_hashed_key():
    key = notices.notice_key("decision", "c" * 64, "p" * 64, "1.0.0+abcdef123456")
    assert key.startswith("decision:sha256:") and len(key) <= 128
    assert key == notices.notice_key("decision", "c" * 64, "p" * 64, "1.0.0+abcdef123456")


# --------------------------------------------------------------------------- naturalized citizens


@pytest.mark.parametrize("pack", ["tfsc-2011", "tfsc-2011-strict"])
@pytest.mark.parametrize("disclosure", ["full", "public_safety_only", "none"])
def test_naturalized_citizen_never_gets_hit_information_end_to_end(world, pack, disclosure):
    """Defensive, end to end: CompiledPack.decide -> notices (and the detainer path, were there
    one). No notice to any LEA may carry immigration status or aliases of a naturalized
    citizen under the Task Force packs (IV rec. 3)."""
    decision = decide(pack, citizenship_status="naturalized_citizen", disclosure=disclosure)
    assert "immigration_status" not in decision.lea_disclosure.fields
    assert "aliases" not in decision.lea_disclosure.fields
    with world.db.session() as s, s.begin():
        world.case(s, "c-1", citizenship_status="naturalized_citizen", disclosure=disclosure)
        notices.send_decision_notice(
            s, case_id="c-1", ori=NY, decision=decision, facts=FACTS, at=AT
        )
        if decision.action.value in ("detainer", "conditional_detainer", "notification_request"):
            lifecycle.lodge(
                s, case_id="c-1", officer_action_id=None, ori=NY,
                kind=DetainerKind(decision.action.value), issued_at=AT, actor="t", policy=pack,
            )  # fmt: skip
        for notice in s.scalars(select(Notice)):
            keys = all_keys(notice.content)
            assert "immigration_status" not in keys
            assert "aliases" not in keys
            assert FACTS["immigration_status"] not in str(notice.content)
            assert "JUAN DOE" not in str(notice.content)


def test_the_status_quo_pack_would_disclose_it_so_the_check_has_teeth(world):
    decision = decide("morton-2011", citizenship_status="naturalized_citizen")
    with world.db.session() as s, s.begin():
        world.case(s, "c-1", citizenship_status="naturalized_citizen")
        notice = notices.send_decision_notice(
            s, case_id="c-1", ori=NY, decision=decision, facts=FACTS, at=AT
        )
        assert {"immigration_status", "aliases"} <= set(notice.content["disclosed"])


def test_decide_then_lodge_end_to_end_for_a_removable_person(world):
    decision = decide("tfsc-2011", disclosure="public_safety_only")
    with world.db.session() as s, s.begin():
        world.case(s, "c-1", disclosure="public_safety_only")
        notices.send_decision_notice(
            s, case_id="c-1", ori=NY, decision=decision, facts=FACTS, at=AT
        )
        d = lifecycle.lodge(
            s, case_id="c-1", officer_action_id=None, ori=NY,
            kind=DetainerKind(decision.action.value), issued_at=AT, actor="t", policy="tfsc-2011",
        )  # fmt: skip
        assert d.state.value == "pending_condition"
        kinds = [n.kind for n in s.scalars(select(Notice).order_by(Notice.id))]
        assert kinds == [NoticeKind.case_update, NoticeKind.detainer_issued]
        for notice in s.scalars(select(Notice)):
            assert "immigration_status" not in all_keys(notice.content)
