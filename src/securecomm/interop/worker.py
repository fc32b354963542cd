"""The pipeline worker: claims micro-batches of submissions stage by stage and runs the stage.

One micro-batch is one transaction::

    BEGIN                                   -- SQLite: BEGIN IMMEDIATE (the one writer)
    SELECT ... FROM submissions
     WHERE stage = :stage AND state <> 'failed'
     ORDER BY id LIMIT :n
       FOR UPDATE OF submissions SKIP LOCKED  -- PostgreSQL: workers never share a row
    ... the stage's reads and writes (stages.py) ...
    UPDATE submissions SET stage = :next ...  -- the transition
    COMMIT

so the outputs of a step and the step's transition commit together or not at all: a worker
killed at any instant (SIGKILL included) loses at most the uncommitted batch, which the next
run claims again from the same, unchanged persisted state. Nothing is half-done, nothing is
done twice. Unique keys (case id; decision per case document; notice idempotency keys;
detainer per case and kind) are the second line of defence.

Errors: if a batch raises, it is rolled back and its submissions are retried one per
transaction; one that still raises is marked ``failed`` with the error, keeping the stage
it failed in (kept, visible in ``securecomm submissions list --state failed``, never dropped;
``securecomm submissions retry`` re-queues it in that stage), the others proceed. Database errors
(connection lost, ...) are not blamed on the submissions: they stop the worker.

Order: each round takes one batch from every automatic stage, downstream first (``act`` ...
``criminal_history``), so work in flight stays small. Biographic linkage (Splink) has a fixed
cost per call: its stage waits until a full batch is queued or nothing else is left.
Stages that wait for a person (``verification``; ``officer`` unless ``auto_accept``) are
never claimed. ``until_idle`` stops when a round finds nothing to do.

Fault injection (TEST ONLY)
    ``SECURECOMM_FAULT_AFTER=STAGE:N`` makes the worker kill itself (SIGKILL: no clean-up, no
    flush, as a power cut or the kernel's OOM killer would) right after the N-th batch of
    STAGE it ran has *committed*; ``STAGE:N:before-commit`` kills it inside that batch's
    transaction, after the stage wrote everything and the transitions were applied, just
    before COMMIT. Batches are counted per process, from 1. The crash-recovery test uses it to
    kill at chosen points instead of after a timer (a timer can fire after the work is done).
    Never set it in production: it exists so that "killed mid-run, resumed, nothing lost or
    duplicated" is proven on every test run. A malformed value stops the worker at start-up.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, and_, exists, func, select, update
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from ..preflight import preflight
from ..store.db import session_factory
from ..store.models import (
    CaseRecord,
    CaseState,
    DecisionRecord,
    Jurisdiction,
    PipelineStage,
    Submission,
    SubmissionState,
)
from . import stages
from .adapters import Agencies, agencies_for
from .settings import PipelineSettings, load_settings
from .stages import AUTOMATIC, Context, Item, StageSpec, Transition

__all__ = ["WorkerReport", "claim", "run_worker", "stage_counts"]

P = PipelineStage
UTC = dt.UTC


@dataclass
class WorkerReport:
    batches: int = 0
    processed: Counter = field(default_factory=Counter)  # stage -> submissions run
    failed: int = 0
    elapsed: float = 0.0
    stopped_by_signal: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "batches": self.batches,
            "processed": dict(self.processed),
            "failed": self.failed,
            "elapsed_s": round(self.elapsed, 3),
        }


def _claim_stmt(stage: PipelineStage, limit: int, dialect: str, ids: list[int] | None = None):
    s, j = Submission.__table__, Jurisdiction.__table__
    stmt = (
        select(s.c.id, s.c.tcn, s.c.ori, s.c.payload, j.c.timezone)
        .join(j, j.c.ori == s.c.ori)
        .where(s.c.stage == stage.value, s.c.state != SubmissionState.failed.value)
    )
    if ids is not None:
        stmt = stmt.where(s.c.id.in_(ids))
    if stage is P.officer:  # simulated officers take only cases needing no supervisor
        c, d = CaseRecord.__table__, DecisionRecord.__table__
        stmt = stmt.join(c, c.c.submission_id == s.c.id).where(
            c.c.state.in_([CaseState.awaiting_officer.value, CaseState.acted.value]),
            ~exists().where(and_(d.c.case_id == c.c.case_id, d.c.requires_supervisor_approval)),
        )
    stmt = stmt.order_by(s.c.id).limit(limit)
    if dialect == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=s)
    return stmt


def claim(
    session: Session, stage: PipelineStage, limit: int, ids: list[int] | None = None
) -> list[Item]:
    """Lock up to ``limit`` submissions waiting in ``stage`` (see the module docstring)."""
    dialect = session.get_bind().dialect.name
    rows = session.execute(_claim_stmt(stage, limit, dialect, ids)).all()
    return [Item(r.id, r.tcn, r.ori, r.payload, r.timezone) for r in rows]


def apply_transitions(
    session: Session, transitions: dict[int, Transition], now: dt.datetime
) -> None:
    groups: dict[tuple, list[int]] = defaultdict(list)
    for sid, t in transitions.items():
        groups[(t.stage, t.state, t.error)].append(sid)
    s = Submission.__table__
    for (stage, state, error), ids in groups.items():
        session.execute(
            update(s)
            .where(s.c.id.in_(ids))
            .values(stage=stage.value, state=state.value, error=error, state_changed_at=now)
        )


def stage_counts(session: Session) -> dict[str, int]:
    """Submissions per stage (failed ones counted apart under ``failed``)."""
    s = Submission.__table__
    out: dict[str, int] = {}
    for stage, state, n in session.execute(
        select(s.c.stage, s.c.state, func.count()).group_by(s.c.stage, s.c.state)
    ):
        key = "failed" if state == SubmissionState.failed.value else stage
        out[key] = out.get(key, 0) + n
    return out


FAULT_ENV = "SECURECOMM_FAULT_AFTER"
FAULT_WHEN = ("after-commit", "before-commit")


@dataclass(frozen=True)
class Fault:
    """Where the worker kills itself (see "Fault injection" in the module docstring)."""

    stage: PipelineStage
    batch: int
    when: str = "after-commit"

    @classmethod
    def parse(cls, text: str) -> Fault:
        parts = text.strip().split(":")
        try:
            if len(parts) not in (2, 3):
                raise ValueError("expected STAGE:N or STAGE:N:before-commit")
            stage = PipelineStage(parts[0])
            n = int(parts[1])
            when = parts[2] if len(parts) == 3 else "after-commit"
            if n < 1:
                raise ValueError("N counts batches from 1")
            if when not in FAULT_WHEN:
                raise ValueError(f"the third part is one of {', '.join(FAULT_WHEN)}")
        except ValueError as exc:
            raise ValueError(
                f"{FAULT_ENV}: {text!r} is not STAGE:N[:before-commit] ({exc})"
            ) from None
        return cls(stage, n, when)

    @classmethod
    def from_env(cls) -> Fault | None:
        text = os.environ.get(FAULT_ENV)
        return cls.parse(text) if text else None


def _kill_self() -> None:  # pragma: no cover - the process ends here
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


class _Runner:
    fault: Fault | None = None

    def __init__(
        self,
        engine: Engine,
        ctx: Context,
        batch_size: int,
        report: WorkerReport,
        on_batch: Callable[[PipelineStage, dict[int, Transition]], None] | None,
    ) -> None:
        self.engine = engine
        self.sessions = session_factory(engine)
        self.ctx = ctx
        self.batch_size = batch_size
        self.report = report
        self.on_batch = on_batch
        self.stage_batches: Counter = Counter()  # batches run per stage (fault injection)

    def batch(self, spec: StageSpec, limit: int) -> int:
        """Run one batch of ``spec``; returns how many submissions it took. A transient
        database conflict (deadlock, serialization failure, SQLite busy) retries the batch."""
        for attempt in range(TRANSIENT_RETRIES + 1):
            try:
                with self.sessions() as session, session.begin():
                    items = claim(session, spec.stage, limit)
                    if not items:
                        return 0
                    transitions = self._run(session, spec, items)
                    self._fault(spec.stage, "before-commit")
                self._fault(spec.stage, "after-commit", count=True)
            except (OperationalError, DBAPIError) as exc:
                if _is_transient(exc) and attempt < TRANSIENT_RETRIES:
                    time.sleep(0.2 * (attempt + 1))
                    continue
                if not _is_data_error(exc):
                    raise
                return self._isolate(spec, limit)
            except Exception:
                return self._isolate(spec, limit)
            self._done(spec, transitions)
            return len(items)
        return 0  # pragma: no cover - the loop returns or raises

    def _fault(self, stage: PipelineStage, when: str, *, count: bool = False) -> None:
        """Fault injection (test only): kill this process at the configured point."""
        fault = self.fault
        if fault is None or fault.stage is not stage:
            return
        n = self.stage_batches[stage] + 1
        if count:
            self.stage_batches[stage] = n
        if fault.when == when and fault.batch == n:
            _kill_self()

    def _run(self, session: Session, spec: StageSpec, items: list[Item]) -> dict[int, Transition]:
        transitions = spec.run(session, self.ctx, items)
        missing = [i.id for i in items if i.id not in transitions]
        if missing:  # a stage must settle every claimed submission
            raise RuntimeError(f"stage {spec.stage}: no transition for submissions {missing[:5]}")
        apply_transitions(session, transitions, self.ctx.clock())
        return transitions

    def _done(self, spec: StageSpec, transitions: dict[int, Transition]) -> None:
        self.report.batches += 1
        self.report.processed[spec.stage.value] += len(transitions)
        self.report.failed += sum(
            1 for t in transitions.values() if t.state is SubmissionState.failed
        )
        if self.on_batch:
            self.on_batch(spec.stage, transitions)

    def _isolate(self, spec: StageSpec, limit: int) -> int:
        """The batch failed: retry its submissions one per transaction; fail the culprits."""
        with self.sessions() as session, session.begin():
            dialect = session.get_bind().dialect.name
            ids = [r.id for r in session.execute(_claim_stmt(spec.stage, limit, dialect)).all()]
        taken = 0
        for sid in ids:
            try:
                with self.sessions() as session, session.begin():
                    items = claim(session, spec.stage, 1, [sid])
                    if not items:
                        continue  # another worker has it
                    transitions = self._run(session, spec, items)
            except (OperationalError, DBAPIError) as exc:
                if not _is_data_error(exc):
                    raise
                transitions = self._fail(spec, sid, exc)
            except Exception as exc:
                transitions = self._fail(spec, sid, exc)
            if transitions:
                taken += 1
                self._done(spec, transitions)
        return taken

    def _fail(self, spec: StageSpec, sid: int, exc: Exception) -> dict[int, Transition]:
        error = f"{spec.stage.value}: {type(exc).__name__}: {exc}"
        with self.sessions() as session, session.begin():
            if not claim(session, spec.stage, 1, [sid]):
                return {}
            t = {sid: Transition.fail(spec.stage, error)}
            apply_transitions(session, t, self.ctx.clock())
        return t

    def queued(self, stage: PipelineStage) -> int:
        s = Submission.__table__
        with self.engine.connect() as conn:
            conn = conn.execution_options(sqlite_begin="DEFERRED")
            count = conn.scalar(
                select(func.count())
                .select_from(s)
                .where(s.c.stage == stage.value, s.c.state != SubmissionState.failed.value)
            )
            conn.rollback()
            return count or 0


TRANSIENT_RETRIES = 3
_TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03"}  # serialization, deadlock, lock not available


def _is_transient(exc: DBAPIError) -> bool:
    """A conflict that goes away by trying again, not a fault of the data or the database."""
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) in _TRANSIENT_SQLSTATES:
        return True
    return "database is locked" in str(orig or exc)


def _is_data_error(exc: DBAPIError) -> bool:
    """A database error caused by the data (constraint, bad value), not by the database."""
    from sqlalchemy.exc import DataError, IntegrityError

    return isinstance(exc, IntegrityError | DataError)


def prepare(engine: Engine, agencies: Agencies) -> None:
    """Load (or rebuild) the galleries before the first batch, outside any write lock."""
    with engine.connect() as conn:
        conn = conn.execution_options(sqlite_begin="DEFERRED")
        with Session(bind=conn) as session:
            for gallery in agencies.galleries:
                gallery.ensure(session)


def _flag_complaint_breaches(engine: Engine, now: dt.datetime) -> None:
    """Record complaints overdue in their stage (IV rec. 4), each breach once, so a breach is
    flagged within one worker cycle. A read first: the write transaction (a lock on SQLite)
    only when there is something to record."""
    from ..oversight.complaints import breaches_pending, flag_breaches

    with (
        engine.connect() as conn,
        Session(bind=conn.execution_options(sqlite_begin="DEFERRED")) as session,
    ):
        pending = breaches_pending(session, now)
    if pending:
        with session_factory(engine)() as session, session.begin():
            flag_breaches(session, now)


def run_worker(
    engine: Engine,
    *,
    settings: PipelineSettings | None = None,
    agencies: Agencies | None = None,
    batch_size: int = 500,
    until_idle: bool = True,
    auto_accept: bool | None = None,
    poll_seconds: float = 1.0,
    max_batches: int | None = None,
    clock: Callable[[], dt.datetime] | None = None,
    on_batch: Callable[[PipelineStage, dict[int, Transition]], None] | None = None,
    handle_signals: bool = False,
) -> WorkerReport:
    """Process submissions until idle (or forever, polling). See the module docstring.

    ``auto_accept`` (default: the setting) simulates officers accepting recommendations that
    need no supervisor. ``handle_signals``: SIGTERM / SIGINT finish the current batch, then stop.
    """
    fault = Fault.from_env()  # test only; a malformed value stops the worker here
    settings = settings or load_settings()
    agencies = agencies or agencies_for(engine.url, settings)
    # fail closed before any work: settings in range, policies, calendar, model, galleries
    preflight(engine, settings, agencies, batch_size=batch_size, max_batches=max_batches)
    auto = settings.auto_accept if auto_accept is None else auto_accept
    ctx = Context(settings, agencies, clock or (lambda: dt.datetime.now(UTC)), auto)
    report = WorkerReport()
    runner = _Runner(engine, ctx, batch_size, report, on_batch)
    runner.fault = fault
    stop = {"now": False}
    previous: dict[int, Any] = {}
    if handle_signals:

        def _stop(signum, _frame) -> None:
            stop["now"] = True
            report.stopped_by_signal = True

        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, _stop)
    started = time.perf_counter()
    try:
        prepare(engine, agencies)
        specs = [s for s in AUTOMATIC if auto or not s.needs_auto_accept]
        while not stop["now"]:
            did = 0
            for spec in specs:
                if stop["now"] or (max_batches is not None and report.batches >= max_batches):
                    break
                if spec.stage is P.biographic:
                    if did and runner.queued(P.biographic) < batch_size:
                        continue  # let it fill up: Splink has a fixed cost per call
                    did += runner.batch(spec, max(batch_size, 2000))
                    continue
                did += runner.batch(spec, batch_size)
            if max_batches is not None and report.batches >= max_batches:
                break
            _flag_complaint_breaches(engine, ctx.clock())  # oversight: once per cycle
            if did == 0:
                if until_idle:
                    break
                time.sleep(poll_seconds)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        report.elapsed = time.perf_counter() - started
    return report


def is_tty() -> bool:
    return sys.stderr.isatty()


__all__ += ["apply_transitions", "prepare", "stages"]
