"""The worker: concurrent workers never share a submission; until-idle; max batches."""

from __future__ import annotations

import threading
from collections import Counter

from interop_helpers import T_NOW
from sqlalchemy import select

from securecomm.interop.adapters import agencies_for
from securecomm.interop.worker import run_worker
from securecomm.store import audit
from securecomm.store.models import DecisionRecord, Detainer, Hit, Notice, OfficerAction


def test_two_concurrent_workers_process_each_submission_once(world):
    world.submit()
    reports, errors = [], []

    def work() -> None:
        try:
            agencies = agencies_for(world.engine.url, world.settings)
            reports.append(
                run_worker(world.engine, settings=world.settings, agencies=agencies,
                           batch_size=40, auto_accept=True, clock=lambda: T_NOW)
            )  # fmt: skip
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not errors, errors
    assert sum(r.batches for r in reports) > 0
    with world.session() as s:
        assert audit.verify(s).ok
        per_case = Counter(d.case_id for d in s.scalars(select(DecisionRecord)))
        keys = Counter(n.idempotency_key for n in s.scalars(select(Notice)))
        hits = Counter((h.submission_id, h.repository, h.rank) for h in s.scalars(select(Hit)))
        detainers = Counter((d.case_id, d.kind) for d in s.scalars(select(Detainer)))
        accepts = Counter(a.case_id for a in s.scalars(select(OfficerAction)))
    for counter in (per_case, keys, hits, detainers, accepts):
        assert counter and max(counter.values()) == 1
    stages = world.stages()
    assert set(stages) <= {"done", "verification", "officer"}
    # together the workers ran every submission through criminal history exactly once
    assert sum(r.processed["criminal_history"] for r in reports) == len(world.truth)


def test_max_batches_and_resume(world):
    world.submit()
    first = world.run(max_batches=2, batch_size=50)
    assert first.batches == 2
    world.run()
    stages = world.stages()
    assert set(stages) <= {"done", "verification", "officer"}
    with world.session() as s:
        assert audit.verify(s).ok
