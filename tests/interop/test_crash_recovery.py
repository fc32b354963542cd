"""Kill the worker at chosen points of a large run (fault injection, no timers); resume until
idle; compare with a run that was never interrupted: no lost and no duplicated decision,
detainer or notice (issue 8 item 6).

The world: a couple of thousand bookings (every path: criminal-history hits, IDENT matches,
band look-alikes, no-template bookings through Splink, no matches). The crashed run goes
through ``python -m securecomm.cli worker --until-idle --auto-accept`` subprocesses, each
started with ``SECURECOMM_FAULT_AFTER=STAGE:N[:before-commit]`` (test-only, see
:mod:`securecomm.interop.worker`): the worker SIGKILLs itself right after the N-th batch of a
stage commits, or inside that batch's transaction just before COMMIT. Every such process must
die by SIGKILL (so each kill really landed mid-run), then one run without the hook finishes.
The reference run processes the same world in-process, uninterrupted, on a fresh database of
the same backend. Every submission must end in the same stage with the same hits, case,
decision, officer actions, final action, detainers, notices and audit events, each exactly
once; both audit logs must verify. Nothing here depends on timing: an idle machine and a
loaded one kill at the same points.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from securecomm.interop.adapters import agencies_for
from securecomm.interop.intake import submit_bookings
from securecomm.interop.settings import load_settings
from securecomm.interop.synthetic_world import WorldSpec, generate_world, seed_world
from securecomm.interop.worker import FAULT_ENV, prepare, run_worker
from securecomm.store import audit
from securecomm.store.db import make_engine, session_factory, upgrade
from securecomm.store.models import (
    AuditEntry,
    CaseRecord,
    DecisionRecord,
    Detainer,
    Hit,
    IdentityVerification,
    Notice,
    OfficerAction,
    PipelineStage,
    Submission,
)

BOOKINGS = 2000
ROOT = Path(__file__).resolve().parents[2]


def _prepare(url: str, world, data_dir: Path, model: Path) -> None:
    upgrade(url)
    engine = make_engine(url)
    try:
        with session_factory(engine)() as s, s.begin():
            seed_world(s, world)
        report = submit_bookings(session_factory(engine), list(world.booking_lines()))
        assert report.accepted == len(world.bookings) and report.rejected == 0
    finally:
        engine.dispose()
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = load_settings(data_dir=data_dir)
    shutil.copy(model, data_dir / f"{settings.file_prefix_for(url)}.biographic-model.json")
    engine = make_engine(url)
    try:  # galleries built now: most kills then land mid-batch, not in set-up
        prepare(engine, agencies_for(engine.url, settings))
    finally:
        engine.dispose()


def _signature(url: str) -> tuple[dict, Counter, bool, int]:
    """Per TCN: everything the pipeline wrote about it, ids and times left out."""
    engine = make_engine(url)
    try:
        with session_factory(engine)() as s:
            subs = {r.id: r for r in s.scalars(select(Submission))}
            case_of = {c.submission_id: c for c in s.scalars(select(CaseRecord))}
            sub_of_case = {c.case_id: sid for sid, c in case_of.items()}
            sig: dict[str, dict] = {
                sub.tcn: {
                    "stage": sub.stage.value, "state": sub.state.value, "error": sub.error,
                    "hits": [], "decisions": [], "actions": [], "detainers": [], "notices": [],
                    "case": None, "task": None,
                }
                for sub in subs.values()
            }  # fmt: skip
            for h in s.scalars(select(Hit).order_by(Hit.repository, Hit.rank)):
                sig[subs[h.submission_id].tcn]["hits"].append(
                    (h.repository.value, h.rank, h.fin or h.fbi_number, round(h.score, 4))
                )
            for sid, c in case_of.items():
                sig[subs[sid].tcn]["case"] = (
                    c.case_id, c.state.value, c.case_sha256, c.fin,
                    c.final_action.value if c.final_action else None,
                )  # fmt: skip
            for v in s.scalars(select(IdentityVerification)):
                sig[subs[v.submission_id].tcn]["task"] = (
                    v.method.value,
                    v.fin,
                    v.state.value,
                    v.case_id,
                )
            for d in s.scalars(select(DecisionRecord).order_by(DecisionRecord.id)):
                sig[subs[sub_of_case[d.case_id]].tcn]["decisions"].append(
                    (d.policy, d.policy_version, d.case_sha256, d.decision_sha256)
                )
            for a in s.scalars(select(OfficerAction).order_by(OfficerAction.id)):
                sig[subs[sub_of_case[a.case_id]].tcn]["actions"].append(
                    (a.kind.value, a.officer, a.chosen_action.value if a.chosen_action else None)
                )
            for d in s.scalars(select(Detainer).order_by(Detainer.id)):
                sig[subs[sub_of_case[d.case_id]].tcn]["detainers"].append(
                    (d.kind.value, d.state.value)
                )
            for n in s.scalars(select(Notice).order_by(Notice.id)):
                sid = n.submission_id if n.submission_id is not None else sub_of_case[n.case_id]
                sig[subs[sid].tcn]["notices"].append((n.kind.value, n.case_id))
            for entry in sig.values():
                for key in ("hits", "decisions", "actions", "detainers", "notices"):
                    entry[key] = sorted(entry[key], key=repr)
            events = Counter((e.case_id, e.event_type) for e in s.scalars(select(AuditEntry)))
        with session_factory(engine)() as s:
            report = audit.verify(s)
        keys_unique = True  # enforced by the unique constraint; counted for the report
        return sig, events, report.ok and keys_unique, report.entries
    finally:
        engine.dispose()


def _worker_cmd() -> list[str]:
    return [sys.executable, "-m", "securecomm.cli", "worker", "--until-idle", "--auto-accept",
            "--batch-size", "200", "--quiet", "--format", "json"]  # fmt: skip


#: Where the crashed run is killed, in order: (stage, batch of that stage in the process,
#: after-commit | before-commit). Each process starts over from what the previous one committed,
#: so these points spread the kills over the whole run: the first FBI batches, a mid-transaction
#: kill in every stage that writes, the first officer and act batches, then late ones.
KILLS = (
    ("criminal_history", 1, "after-commit"),
    ("criminal_history", 2, "before-commit"),
    ("ident", 1, "before-commit"),
    ("lesc", 1, "after-commit"),
    ("lesc", 2, "before-commit"),
    ("decide", 1, "before-commit"),
    ("officer", 1, "before-commit"),
    ("officer", 1, "after-commit"),
    ("act", 1, "before-commit"),
    ("act", 2, "after-commit"),
    ("decide", 1, "after-commit"),
    ("act", 1, "before-commit"),
)


def _stages(url: str) -> Counter:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as s:
            return Counter(sub.stage.value for sub in s.scalars(select(Submission)))
    finally:
        engine.dispose()


def test_kill_at_chosen_points_loses_and_duplicates_nothing(
    backend, fresh_url, tmp_path, small_world, biographic_model
):
    # the same IDENT population as the session's small world (seed, persons): its trained
    # biographic model applies; far more bookings.
    spec = WorldSpec(persons=400, bookings=BOOKINGS, seed=7, share_ident=0.4, share_lookalike=0.02,
                     no_template_rate=0.02)  # fmt: skip
    world = generate_world(spec)
    assert [e["given_names"] for e in world.imm_encounters] == [
        e["given_names"] for e in small_world.imm_encounters
    ]
    crashed_url, reference_url = fresh_url(), fresh_url()
    crashed_dir, reference_dir = tmp_path / "crashed", tmp_path / "reference"
    _prepare(crashed_url, world, crashed_dir, biographic_model)
    _prepare(reference_url, world, reference_dir, biographic_model)

    env = {
        **os.environ,
        "SECURECOMM_DATABASE_URL": crashed_url,
        "SECURECOMM_DATA_DIR": str(crashed_dir),
        "PYTHONPATH": str(ROOT / "src"),
    }
    for name in ("SECURECOMM_PIPELINE_CONFIG", "SECURECOMM_POLICY_SCHEDULE", FAULT_ENV):
        env.pop(name, None)
    progress: list[tuple[str, dict]] = []
    for stage, n, when in KILLS:
        point = f"{stage}:{n}:{when}"
        run = subprocess.run(
            _worker_cmd(), env={**env, FAULT_ENV: point}, capture_output=True, text=True,
            timeout=600,
        )  # fmt: skip
        # it died by its own SIGKILL at that point: the kill landed mid-run, with work left
        assert run.returncode == -signal.SIGKILL, (
            point, run.returncode, run.stderr[-2000:], progress,
        )  # fmt: skip
        progress.append((point, dict(_stages(crashed_url))))
    stuck = {k: v for k, v in progress[-1][1].items() if k != "done"}
    assert stuck, f"the last kill left nothing to resume: {progress}"
    final = subprocess.run(_worker_cmd(), env=env, capture_output=True, text=True, timeout=600)
    assert final.returncode in (0, 1), final.stderr[-2000:]

    engine = make_engine(reference_url)
    try:
        settings = load_settings(data_dir=reference_dir, policy_entries=None)
        run_worker(engine, settings=settings, batch_size=200, auto_accept=True)
    finally:
        engine.dispose()

    context = f"kills at {[p for p, _ in progress]}; stages after each: {progress}"
    got, got_events, got_ok, got_entries = _signature(crashed_url)
    want, want_events, want_ok, want_entries = _signature(reference_url)
    assert got_ok and want_ok, context
    assert set(got) == set(want) and len(got) == BOOKINGS
    different = [tcn for tcn in want if got[tcn] != want[tcn]]
    assert not different, (
        f"{context}; e.g. {different[0]}: {got[different[0]]} != {want[different[0]]}"
    )
    # audit events per case: the same, each exactly as often
    assert got_events == want_events, context
    assert got_entries == want_entries
    # exactly once: one decision per case, one detainer per (case, kind), one response per TCN
    stages = Counter(v["stage"] for v in got.values())
    assert stages["done"] > 0.8 * BOOKINGS, stages
    assert any(v["detainers"] for v in got.values())  # the act stage lodged some
    for tcn, v in got.items():
        assert len(v["decisions"]) <= 1, tcn
        assert len(v["detainers"]) == len(set(v["detainers"])), tcn
        assert [k for k, _ in v["notices"]].count("submission_response") == 1, tcn
        assert v["state"] != "failed", (tcn, v["error"])


def test_fault_injection_setting_is_checked(monkeypatch):
    from securecomm.interop.worker import Fault

    assert Fault.parse("act:2") == Fault(PipelineStage.act, 2, "after-commit")
    assert Fault.parse("lesc:1:before-commit").when == "before-commit"
    for bad in ("act", "act:0", "nowhere:1", "act:x", "act:1:later", "act:1:2:3"):
        with pytest.raises(ValueError, match=FAULT_ENV):
            Fault.parse(bad)
    monkeypatch.setenv(FAULT_ENV, "act:0")
    with pytest.raises(ValueError, match="N counts batches from 1"):
        Fault.from_env()
