"""SIGKILL the worker at random points during a large run; restart until idle; compare with a
run that was never interrupted: no lost and no duplicated decision, detainer or notice.

The world: a few thousand bookings (every path: criminal-history hits, IDENT matches, band
look-alikes, no-template bookings through Splink, no matches). The crashed run goes through
``python -m securecomm.cli worker --until-idle --auto-accept`` subprocesses killed with SIGKILL
after random delays (some during start-up and gallery building, most mid-batch), then one run
left to finish. The reference run processes the same world in-process, uninterrupted, on a
fresh database of the same backend. Every submission must end in the same stage with the same
hits, case, decision, officer actions, detainers, notices and audit events, each exactly once;
both audit logs must verify.

``SECURECOMM_CRASH_SEED`` picks the kill schedule (printed on failure); ``SECURECOMM_CRASH_KILLS``
how many kills (default 5).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from securecomm.interop.adapters import agencies_for
from securecomm.interop.intake import submit_bookings
from securecomm.interop.settings import load_settings
from securecomm.interop.synthetic_world import WorldSpec, generate_world, seed_world
from securecomm.interop.worker import prepare, run_worker
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
                sig[subs[sid].tcn]["case"] = (c.case_id, c.state.value, c.case_sha256, c.fin)
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


def _advanced(url: str) -> int:
    """Submissions past their first stage: committed progress."""
    engine = make_engine(url)
    try:
        with session_factory(engine)() as s:
            return len(
                s.scalars(select(Submission.id).where(Submission.stage != "criminal_history")).all()
            )
    finally:
        engine.dispose()


def _wait_for_progress(proc: subprocess.Popen, url: str, before: int, limit: float = 120) -> None:
    """Return once the database shows more than ``before`` advanced submissions, or ``proc``
    has ended (it finished: the caller's ``wait`` then returns at once)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return  # finished: the caller's wait() returns at once
        if _advanced(url) > before:
            return
        time.sleep(0.1)
    raise AssertionError(f"the worker made no progress in {limit} s")


def _worker_cmd() -> list[str]:
    return [sys.executable, "-m", "securecomm.cli", "worker", "--until-idle", "--auto-accept",
            "--batch-size", "200", "--quiet", "--format", "json"]  # fmt: skip


def test_sigkill_at_random_points_loses_and_duplicates_nothing(
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

    seed = int(os.environ.get("SECURECOMM_CRASH_SEED", random.randrange(1_000_000)))
    kills = int(os.environ.get("SECURECOMM_CRASH_KILLS", "5"))
    rng = random.Random(seed)
    env = {
        **os.environ,
        "SECURECOMM_DATABASE_URL": crashed_url,
        "SECURECOMM_DATA_DIR": str(crashed_dir),
        "PYTHONPATH": str(ROOT / "src"),
    }
    env.pop("SECURECOMM_PIPELINE_CONFIG", None)
    env.pop("SECURECOMM_POLICY_SCHEDULE", None)
    started = time.monotonic()
    killed, finished_early = 0, 0
    progress: list[int] = []  # submissions past their first stage after each kill
    for k in range(kills):
        before = progress[-1] if progress else 0
        proc = subprocess.Popen(
            _worker_cmd(), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        try:
            if k == 0:  # anywhere, start-up and gallery loading included
                proc.wait(timeout=rng.uniform(0.5, 4.5))
            else:
                # Start-up takes seconds (more on a loaded machine): wait for this run's first
                # commit, then kill at a random point of the batches that follow.
                _wait_for_progress(proc, crashed_url, before)
                proc.wait(timeout=rng.uniform(0.0, 1.5))
            finished_early += 1  # it finished before the kill: nothing left
            break
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            killed += 1
            progress.append(_advanced(crashed_url))
    final = subprocess.run(_worker_cmd(), env=env, capture_output=True, text=True, timeout=600)
    assert final.returncode in (0, 1), final.stderr[-2000:]
    crash_seconds = time.monotonic() - started

    engine = make_engine(reference_url)
    try:
        settings = load_settings(data_dir=reference_dir, policy_entries=None)
        run_worker(engine, settings=settings, batch_size=200, auto_accept=True)
    finally:
        engine.dispose()

    context = (
        f"kill seed {seed}: {killed} kills (advanced after each: {progress}), finished early "
        f"{finished_early}, {crash_seconds:.0f} s"
    )
    print(context)  # shown with pytest -s
    got, got_events, got_ok, got_entries = _signature(crashed_url)
    want, want_events, want_ok, want_entries = _signature(reference_url)
    assert got_ok and want_ok, context
    assert killed >= 1, context
    # at least one kill landed mid-run, with work committed before it and work left after it
    assert any(0 < n < BOOKINGS for n in progress), context
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
    for tcn, v in got.items():
        assert len(v["decisions"]) <= 1, tcn
        assert len(v["detainers"]) == len(set(v["detainers"])), tcn
        assert [k for k, _ in v["notices"]].count("submission_response") == 1, tcn
        assert v["state"] != "failed", (tcn, v["error"])
