"""Each pipeline stage on both backends, checked against the synthetic world's ground truth."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from interop_helpers import T_NOW
from sqlalchemy import select

from securecomm.interop import stages
from securecomm.interop.stages import STAGES, case_id_for
from securecomm.interop.worker import apply_transitions, claim
from securecomm.law.schema import Case
from securecomm.store import audit
from securecomm.store.models import (
    Booking,
    CaseRecord,
    CaseState,
    DecisionRecord,
    Detainer,
    Hit,
    IdentityVerification,
    Notice,
    NoticeKind,
    OfficerAction,
    PipelineStage,
    Submission,
)

P = PipelineStage


def run_stage(world, stage: PipelineStage, ctx=None, *, apply: bool = True) -> dict:
    ctx = ctx or world.context()
    with world.session() as s, s.begin():
        items = claim(s, stage, 100_000)
        transitions = STAGES[stage].run(s, ctx, items)
        if apply:
            apply_transitions(s, transitions, T_NOW)
    return transitions


def stage_of(world) -> dict[str, str]:
    with world.session() as s:
        return {tcn: st.value for tcn, st in s.execute(select(Submission.tcn, Submission.stage))}


def usable(t) -> bool:
    return t["template"] and t["quality"] is not None and t["quality"] >= 40


def test_criminal_history_stage_attaches_fbi_numbers_and_answers_every_lea(world):
    world.submit()
    ctx = world.context()
    run_stage(world, P.criminal_history, ctx)
    with world.session() as s:
        fbi = dict(
            s.execute(
                select(Submission.tcn, Booking.fbi_number).join(
                    Booking, Booking.submission_id == Submission.id
                )
            ).all()
        )
        responses = s.scalars(
            select(Notice).where(Notice.kind == NoticeKind.submission_response)
        ).all()
    expected = {tcn for tcn, t in world.truth.items() if t["fbi_number"] and usable(t)}
    attached = {tcn for tcn, f in fbi.items() if f}
    # never a wrong record; nearly every usable capture of someone on file is identified
    assert all(fbi[tcn] == world.truth[tcn]["fbi_number"] for tcn in attached)
    assert len(attached & expected) >= 0.9 * len(expected)
    assert attached <= expected
    # every submission answered exactly once, criminal-history side only
    assert Counter(n.content["tcn"] for n in responses) == Counter(list(world.truth))
    sample = next(n for n in responses if n.content["criminal_history"]["result"] == "identified")
    assert set(sample.content) >= {"tcn", "ori", "criminal_history", "immigration_check"}
    assert "fin" not in str(sample.content).lower().replace("fingerprints", "")
    nxt = stage_of(world)
    for tcn, t in world.truth.items():
        assert nxt[tcn] == ("ident" if usable(t) else "biographic"), tcn


def test_ident_stage_matches_band_and_no_match(world):
    world.submit()
    run_stage(world, P.criminal_history)
    run_stage(world, P.ident)
    nxt = stage_of(world)
    with world.session() as s:
        first = {
            tcn: fin
            for tcn, fin in s.execute(
                select(Submission.tcn, Hit.fin)
                .join(Hit, Hit.submission_id == Submission.id)
                .where(Hit.repository == "immigration", Hit.rank == 1)
            )
        }
        tasks = {
            tcn: v
            for tcn, v in s.execute(
                select(Submission.tcn, IdentityVerification).join(
                    IdentityVerification, IdentityVerification.submission_id == Submission.id
                )
            )
        }
    matched = {tcn for tcn in first if tcn not in tasks and nxt[tcn] == "lesc"}
    ident = {tcn for tcn, t in world.truth.items() if t["category"] == "ident" and usable(t)}
    # a match is always the right person; almost every enrolled person is found
    assert all(first[tcn] == world.truth[tcn]["fin"] for tcn in matched)
    assert len(matched & ident) >= 0.9 * len(ident)
    # people enrolled nowhere never match
    for tcn, t in world.truth.items():
        if t["category"] in ("never", "fbi_only") and usable(t):
            assert nxt[tcn] == "done" and tcn not in tasks, tcn
    # look-alikes land in the band: a verification task naming the record, never a match
    looks = [tcn for tcn, t in world.truth.items() if t["category"] == "lookalike"]
    assert looks
    for tcn in looks:
        assert tcn in tasks and tasks[tcn].method.value == "biometric"
        assert tasks[tcn].fin == world.truth[tcn]["lookalike_of"]
        assert 0.66 <= tasks[tcn].score < 0.75
        assert nxt[tcn] == "lesc"


def test_biographic_stage_always_needs_a_person(world):
    world.submit()
    run_stage(world, P.criminal_history)
    run_stage(world, P.biographic)
    nxt = stage_of(world)
    with world.session() as s:
        tasks = {
            tcn: v
            for tcn, v in s.execute(
                select(Submission.tcn, IdentityVerification).join(
                    IdentityVerification, IdentityVerification.submission_id == Submission.id
                )
            )
        }
    no_template = [tcn for tcn, t in world.truth.items() if not usable(t)]
    assert no_template
    found = 0
    for tcn in no_template:
        t = world.truth[tcn]
        if tcn in tasks:
            assert tasks[tcn].method.value == "biographic" and nxt[tcn] == "lesc"
            found += t["category"] == "ident" and tasks[tcn].fin == t["fin"]
        else:
            assert nxt[tcn] == "done"
    enrolled = [tcn for tcn in no_template if world.truth[tcn]["category"] == "ident"]
    assert found >= 0.5 * len(enrolled)


def _through(world, *stage_list, ctx=None):
    for st in stage_list:
        run_stage(world, st, ctx)


def test_lesc_opens_a_case_from_booking_rap_sheet_status_and_jurisdiction(world):
    world.submit()
    _through(world, P.criminal_history, P.ident, P.lesc)
    nxt = stage_of(world)
    with world.session() as s:
        cases = {c.case_id: c for c in s.scalars(select(CaseRecord))}
    matched = [tcn for tcn, st in nxt.items() if st == "decide"]
    parked = [tcn for tcn, st in nxt.items() if st == "verification"]
    assert matched and parked
    for tcn in matched + parked:
        c = cases[case_id_for(tcn)]
        doc, booking = c.case_json, world.world.bookings[int(tcn.split("-")[1])]
        assert c.state is CaseState.open
        assert doc["decided_at"] == booking["booked_at"]  # the decision time is the booking time
        assert doc["jurisdiction"]["ori"] == booking["ori"]
        assert [ch["ncic"] for ch in doc["arrest"]["charges"]] == [
            ch["ncic"] for ch in booking["charges"]
        ]
        for conviction in doc["convictions"]:
            assert conviction["convicted_on"] <= doc["decided_at"][:10]
    for tcn in matched:
        assert cases[case_id_for(tcn)].fin == world.truth[tcn]["fin"]


def test_lesc_status_is_as_of_the_booking_date(world):
    agencies = world.agencies()
    changed = [s for s in world.world.imm_status if s["status"] == "naturalized_citizen"]
    assert changed
    fin, natz = changed[0]["fin"], changed[0]["effective_on"]
    with world.session() as s:
        before, on = agencies.status.determine(s, [(fin, natz - dt.timedelta(days=1)), (fin, natz)])
    assert before.citizenship_status.value == "lawful_permanent_resident"
    assert on.citizenship_status.value == "naturalized_citizen"


def test_decide_records_one_audited_decision_per_case(world):
    world.submit()
    _through(world, P.criminal_history, P.ident, P.lesc, P.decide)
    with world.session() as s:
        decisions = s.scalars(select(DecisionRecord)).all()
        cases = s.scalars(
            select(CaseRecord).where(CaseRecord.state == CaseState.awaiting_officer)
        ).all()
        entries = audit.list_entries(s, limit=100_000)
        assert audit.verify(s).ok
    assert len(decisions) == len(cases) > 0
    assert Counter(d.case_id for d in decisions).most_common(1)[0][1] == 1
    assert {d.policy for d in decisions} == {"tfsc-2011"}
    recorded = [e for e in entries if e.event_type == "decision.recorded"]
    assert sorted(e.case_id for e in recorded) == sorted(d.case_id for d in decisions)


def test_policy_is_chosen_by_booking_date(world):
    from securecomm.interop.settings import load_settings

    world.settings = load_settings(
        data_dir=world.data_dir,
        policy_entries=((dt.date(1900, 1, 1), "tfsc-2011"), (dt.date(2012, 4, 1), "pep-2014")),
    )
    world.submit()
    _through(world, P.criminal_history, P.ident, P.lesc, P.decide)
    with world.session() as s:
        rows = s.execute(select(DecisionRecord.policy, CaseRecord.case_json).join(CaseRecord)).all()
    assert rows
    for policy, doc in rows:
        booked = stages.facility_date(Case.model_validate(doc))  # the facility's local date
        assert policy == ("pep-2014" if booked >= dt.date(2012, 4, 1) else "tfsc-2011")


def test_auto_accept_then_act_lodges_and_notifies(world):
    world.submit()
    _through(world, P.criminal_history, P.ident, P.lesc, P.decide, P.officer, P.act)
    with world.session() as s:
        decisions = {d.case_id: d for d in s.scalars(select(DecisionRecord))}
        accepts = s.scalars(select(OfficerAction)).all()
        detainers = s.scalars(select(Detainer)).all()
        notices = s.scalars(select(Notice).where(Notice.kind == NoticeKind.case_update)).all()
        cases = {c.case_id: c for c in s.scalars(select(CaseRecord))}
        assert audit.verify(s).ok
    assert accepts and all(a.officer == "auto-accept" and a.kind.value == "accept" for a in accepts)
    # supervisor-flagged recommendations are not auto-accepted
    assert not any(decisions[a.case_id].requires_supervisor_approval for a in accepts)
    accepted = {a.case_id: a for a in accepts}
    for d in detainers:
        assert d.kind.value == accepted[d.case_id].chosen_action.value
    want = {cid for cid, a in accepted.items() if a.chosen_action.value in stages.DETAINER_ACTIONS}
    assert {d.case_id for d in detainers} == want
    # the LEA hears only what its jurisdiction asked for
    for n in notices:
        d = decisions[n.case_id].decision
        assert set(n.content["disclosed"]) == set(d["lea_disclosure"]["fields"]) - {
            "detainer",
            "notification_request",
        }
        case = cases[n.case_id].case_json
        if case["jurisdiction"]["disclosure"] == "none":
            assert n.content["disclosed"] == {}
        if case["jurisdiction"]["disclosure"] == "public_safety_only":
            assert "immigration_status" not in n.content["disclosed"]
        if case["person"]["citizenship_status"] == "naturalized_citizen":
            assert n.content["disclosed"] == {}
    nxt = stage_of(world)
    for cid in accepted:
        assert nxt[cid[2:]] == "done"


def test_naturalized_citizen_matching_an_old_record_gets_no_action(world):
    world.submit()
    world.run()
    with world.session() as s:
        rows = s.execute(
            select(CaseRecord.case_json, DecisionRecord.decision).join(DecisionRecord)
        ).all()
    natz = [(c, d) for c, d in rows if c["person"]["citizenship_status"] == "naturalized_citizen"]
    assert natz, "the world books naturalized citizens who match their old IDENT record"
    for _c, d in natz:
        assert d["action"] == "no_action"
        assert not (
            {"identity", "aliases", "immigration_status"} & set(d["lea_disclosure"]["fields"])
        )


def test_no_match_gets_a_submission_response_only(world):
    world.submit()
    world.run()
    never = [tcn for tcn, t in world.truth.items() if t["category"] == "never" and usable(t)]
    with world.session() as s:
        for tcn in never[:20]:
            sub = s.scalar(select(Submission).where(Submission.tcn == tcn))
            kinds = [
                n.kind for n in s.scalars(select(Notice).where(Notice.submission_id == sub.id))
            ]
            assert kinds == [NoticeKind.submission_response]
            assert s.get(CaseRecord, case_id_for(tcn)) is None
            assert sub.stage is P.done and sub.state.value == "completed"


def test_stage_outputs_rerun_without_transition_duplicate_nothing(world):
    """Were a stage's outputs ever committed without its transition, running it again must
    not duplicate anything (the second line of defence: idempotency keys)."""
    world.submit()
    ctx = world.context()
    for st in (P.criminal_history, P.ident, P.lesc, P.decide, P.officer, P.act):
        run_stage(world, st, ctx, apply=False)  # outputs committed, transition "lost"
        run_stage(world, st, ctx)  # the re-run
    with world.session() as s:
        assert audit.verify(s).ok
        per_case = Counter(d.case_id for d in s.scalars(select(DecisionRecord)))
        keys = Counter(n.idempotency_key for n in s.scalars(select(Notice)))
        hits = Counter((h.submission_id, h.repository, h.rank) for h in s.scalars(select(Hit)))
        detainers = Counter((d.case_id, d.kind) for d in s.scalars(select(Detainer)))
        accepts = Counter(a.case_id for a in s.scalars(select(OfficerAction)))
    for counter in (per_case, keys, hits, detainers, accepts):
        assert counter and max(counter.values()) == 1


def test_worker_isolates_a_failing_submission(world):
    from securecomm.interop.adapters import agencies_for

    world.submit()
    agencies = agencies_for(world.engine.url, world.settings)
    poisoned = next(
        t["fin"] for t in world.truth.values() if t["category"] == "ident" and usable(t)
    )
    real = agencies.status

    class Broken:
        def determine(self, session, requests):
            if any(fin == poisoned for fin, _ in requests):
                raise RuntimeError(f"LESC unavailable for {poisoned}")
            return real.determine(session, requests)

    agencies.status = Broken()
    from securecomm.interop.worker import run_worker

    report = run_worker(
        world.engine,
        settings=world.settings,
        agencies=agencies,
        auto_accept=True,
        clock=lambda: T_NOW,
    )
    assert report.failed >= 1
    with world.session() as s:
        failed = s.scalars(select(Submission).where(Submission.state == "failed")).all()
    assert failed and all(f.stage is P.lesc and poisoned in f.error for f in failed)
    assert {world.truth[f.tcn]["fin"] for f in failed} == {poisoned}
    counts = world.stages()
    assert counts.get("done", 0) > 0.8 * len(world.truth)


@pytest.mark.parametrize("batch_size", [1, 7])
def test_small_batches_give_the_same_outcome(world, batch_size):
    lines = world.lines(60)
    world.submit(lines)
    world.run(batch_size=batch_size)
    with world.session() as s:
        assert audit.verify(s).ok
    counts = world.stages()
    assert sum(counts.values()) == 60
    assert set(counts) <= {"done", "verification", "officer"}
