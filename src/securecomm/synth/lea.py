"""Synthetic LEAs and ICE driving the detainer lifecycle over the store (DESIGN 2, 3.9).

:func:`drive_lifecycle` takes every detainer the pipeline lodged for a booking of the nation
and plays what the holding facility and ICE do, through the public transitions of
:mod:`securecomm.interop.lifecycle` only:

1. **conditional detainer** (``pending_condition``, III rec. 1): the booking's charges are
   disposed at one court date, :data:`DISPOSITION_BEFORE_RELEASE` before the release-eligible
   time (a plea or dismissal at arraignment is what makes a pre-trial detainee release-eligible):
   each charge's own ``disposition`` in the nation row when it is not ``pending``, else a seeded
   draw (:data:`P_CONVICTED`). ``record_disposition`` then activates the detainer (a conviction
   of a charge it waits on) or lets it lapse (every such charge dismissed or acquitted).
2. **operative detainer or notification request** (``active``): the LEA reports the
   release-eligible time -- the nation row's ``release_eligible_at``, or, when that is before
   the detainer reached the facility, :data:`LATE_LODGE_DELAY` after it was issued (the
   hold cannot start before the request exists; counted as ``release_eligible_adjusted``).
   ``report_release_eligible`` starts the 48-business-hour clock (``law/detainer_clock.py``).
3. **outcome** (a seeded draw per detainer, :data:`OUTCOMES`):
   ``custody`` -- ICE assumes custody within the hold (``assume_custody``, an exponential
   delay of mean :data:`CUSTODY_MEAN_HOURS`, kept inside the hold); ``lifted`` -- ICE lifts it
   during the hold (``lift``); ``expired`` -- nobody comes: the clock sweep (``expire_due``)
   ends the hold at ``hold_until`` and the LEA reports the release at that instant
   (``report_release``, no violation); ``held_past_expiry`` -- the LEA keeps the person
   :data:`LATE_HOURS` past ``hold_until`` before releasing (``report_release``: the IV rec. 5
   violation). A facility that does **not honor detainers** never holds: ICE is at the door
   at the release time with :data:`P_CUSTODY_NOT_HONORED`, otherwise the person is released
   then. A notification request holds nothing: ICE picks the person up at the release time
   with :data:`P_CUSTODY_NOTIFICATION`, otherwise the release is reported.

Every transition is dated by the plan, never by the wall clock; transitions dated after
``now`` wait for a later run (``now`` defaults to the end of all plans). The plan of a
detainer is a pure function of ``(seed, TCN, detainer kind)`` and the store, and every
lifecycle transition is idempotent when repeated with the same time, so a second run with the
same arguments changes nothing (it reports ``changed == 0``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..interop import lifecycle
from ..interop.stages import case_id_for
from ..store.models import Detainer, DetainerEvent, DetainerKind, DetainerState, Jurisdiction

__all__ = [
    "CUSTODY_MEAN_HOURS",
    "DISPOSITION_BEFORE_RELEASE",
    "LATE_HOURS",
    "LATE_LODGE_DELAY",
    "OUTCOMES",
    "P_CONVICTED",
    "P_CUSTODY_NOTIFICATION",
    "P_CUSTODY_NOT_HONORED",
    "LifecycleReport",
    "drive_lifecycle",
]

S = DetainerState
UTC = dt.UTC
LEA_ACTOR = "lea-sim"
_CHUNK = 200
ICE_ACTOR = "ice-sim"

# --- parameters (interpretations: the Task Force report gives no rates; each is a knob) ------
#: Outcome of an operative detainer in a facility that honors detainers. Interpretation: ICE
#: assumes custody within the hold most of the time (the hold exists to let it); some are
#: lifted on review; a few lapse unattended; rarely the facility holds past the limit -- the
#: violation the Task Force asked to monitor (IV rec. 5, footnote 7).
OUTCOMES: tuple[tuple[str, float], ...] = (
    ("custody", 0.80),
    ("lifted", 0.10),
    ("expired", 0.07),
    ("held_past_expiry", 0.03),
)
#: ICE's pick-up delay after the release-eligible time: exponential with this mean, kept
#: inside the hold. Interpretation: a transfer is usually arranged within a day.
CUSTODY_MEAN_HOURS = 12.0
#: How long a facility that overstays holds past hold_until: uniform in this range (hours).
#: Interpretation: "a day or so" -- the 48-hour limit missed by a shift or a weekend.
LATE_HOURS = (2.0, 36.0)
#: A pending charge's disposition when the nation row does not say: convicted with this
#: probability, else dismissed (9 in 10) or acquitted. Interpretation: roughly two in three
#: prosecuted charges end in a conviction (order of magnitude of court statistics); a knob.
P_CONVICTED = 0.65
#: The court date before the release-eligible time: uniform in this range (hours).
DISPOSITION_BEFORE_RELEASE = (1.0, 8.0)
#: Non-honoring facility: probability ICE is there at the release time (it knows the time
#: only if told; interpretation).
P_CUSTODY_NOT_HONORED = 0.25
#: Notification request (PEP 2014): probability ICE takes custody at the notified release
#: time (interpretation: notice lets ICE plan a pick-up; no hold helps).
P_CUSTODY_NOTIFICATION = 0.6
#: A release-eligible time before the detainer was issued is reported this long after the
#: issue instead (the facility answers the new request).
LATE_LODGE_DELAY = dt.timedelta(minutes=30)

for _name, _p in (("P_CONVICTED", P_CONVICTED), ("P_CUSTODY_NOT_HONORED", P_CUSTODY_NOT_HONORED),
                  ("P_CUSTODY_NOTIFICATION", P_CUSTODY_NOTIFICATION)):  # fmt: skip
    assert 0 <= _p <= 1, _name
assert abs(sum(p for _, p in OUTCOMES) - 1) < 1e-9


@dataclass
class LifecycleReport:
    """What a run did. ``outcomes``: detainers by state after the run (of this nation's
    bookings); ``transitions``: calls that changed something in this run, by kind;
    ``changed``: their total (0 on an idempotent re-run)."""

    detainers: int = 0
    outcomes: Counter = field(default_factory=Counter)
    transitions: Counter = field(default_factory=Counter)
    violations: int = 0
    release_eligible_adjusted: int = 0
    waiting: int = 0  # planned transitions dated after ``now``
    not_in_nation: int = 0
    errors: list[str] = field(default_factory=list)
    now: dt.datetime | None = None

    @property
    def changed(self) -> int:
        return sum(self.transitions.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "detainers": self.detainers,
            "outcomes": dict(sorted(self.outcomes.items())),
            "transitions": dict(sorted(self.transitions.items())),
            "changed": self.changed,
            "violations": self.violations,
            "release_eligible_adjusted": self.release_eligible_adjusted,
            "waiting": self.waiting,
            "not_in_nation": self.not_in_nation,
            "errors": self.errors[:10],
            "now": self.now.isoformat() if self.now else None,
        }


def _rng(seed: int, tcn: str, kind: str) -> random.Random:
    digest = hashlib.sha256(f"{seed}|{tcn}|{kind}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _draw(rng: random.Random, table: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([k for k, _ in table], weights=[p for _, p in table])[0]


@dataclass
class _Plan:
    """Every time and choice for one detainer, drawn up front (fixed order of draws)."""

    dispositions: list[str]
    court_before: dt.timedelta
    outcome: str
    custody_delay_h: float
    lift_fraction: float
    late_h: float
    custody_at_door: bool


def _plan(seed: int, tcn: str, kind: DetainerKind, charges: list[dict[str, Any]]) -> _Plan:
    rng = _rng(seed, tcn, kind.value)
    dispositions = []
    for c in charges:
        u, v = rng.random(), rng.random()  # both drawn always: a stable sequence
        given = c.get("disposition") or "pending"
        if given != "pending":
            dispositions.append(given)
        elif u < P_CONVICTED:
            dispositions.append("convicted")
        else:
            dispositions.append("dismissed" if v < 0.9 else "acquitted")
    lo, hi = DISPOSITION_BEFORE_RELEASE
    court_before = dt.timedelta(hours=rng.uniform(lo, hi))
    outcome = _draw(rng, OUTCOMES)
    delay = rng.expovariate(1 / CUSTODY_MEAN_HOURS)
    lift_fraction = rng.uniform(0.05, 0.6)
    late = rng.uniform(*LATE_HOURS)
    door = rng.random()
    at_door = door < (
        P_CUSTODY_NOTIFICATION if kind is DetainerKind.notification_request
        else P_CUSTODY_NOT_HONORED
    )  # fmt: skip
    return _Plan(dispositions, court_before, outcome, delay, lift_fraction, late, at_door)


def drive_lifecycle(
    session_factory: Callable[[], Session],
    nation: pa.Table,
    *,
    seed: int,
    now: dt.datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> LifecycleReport:
    """Play the LEAs and ICE for every detainer of the nation's bookings (module docstring).

    ``session_factory``: e.g. ``securecomm.store.db.session_factory(engine)``. One
    transaction per 200 detainers and a savepoint per detainer: a detainer whose transitions
    fail is rolled back alone and named in ``errors``. Then the clock sweep
    (``expire_due(now)``, which expires *every* hold of the store past its ``hold_until``)
    and the releases after it. ``now``: the simulation time (aware); transitions planned
    after it are left for a later run (default: ten days after the latest release-eligible
    time of the nation, past every plan). ``progress(done, total)`` follows the detainers.
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed: an integer expected, got {seed!r}")
    if now is not None and (not isinstance(now, dt.datetime) or now.tzinfo is None):
        raise ValueError(f"now: an aware datetime expected, got {now!r}")
    for col in ("tcn", "release_eligible_at", "charges"):
        if col not in nation.column_names:
            raise ValueError(f"nation: missing column {col}")
    rows = {
        case_id_for(tcn): (tcn, released, charges)
        for tcn, released, charges in zip(
            nation.column("tcn").to_pylist(),
            nation.column("release_eligible_at").to_pylist(),
            nation.column("charges").to_pylist(),
            strict=True,
        )
    }
    report = LifecycleReport()
    with session_factory() as session:
        detainers = list(
            session.execute(
                select(Detainer.id, Detainer.case_id, Detainer.kind, Detainer.ori).order_by(
                    Detainer.issued_at, Detainer.id
                )
            )
        )
        honors = dict(
            session.execute(select(Jurisdiction.ori, Jurisdiction.honors_detainers)).all()
        )
    mine = [d for d in detainers if d.case_id in rows]
    report.not_in_nation = len(detainers) - len(mine)
    report.detainers = len(mine)
    plans: dict[int, _Plan] = {}
    for d in mine:
        tcn, _released, charges = rows[d.case_id]
        plans[d.id] = _plan(seed, tcn, DetainerKind(d.kind), charges or [])
    if now is None:
        # the end of every plan: the latest release-eligible time plus the longest possible
        # hold (48 business hours span at most a 4-day weekend + 2 days) and the late release
        latest = max((r for _, r, _ in rows.values() if r is not None), default=None)
        now = (latest or dt.datetime.now(UTC)) + dt.timedelta(days=10)
    report.now = now
    # one transaction per chunk of detainers (a commit costs a WAL sync), one savepoint per
    # detainer: a detainer whose transitions fail is rolled back alone and named in errors
    for lo in range(0, len(mine), _CHUNK):
        with session_factory() as session, session.begin():
            for d in mine[lo : lo + _CHUNK]:
                tcn, released, _charges = rows[d.case_id]
                scratch = LifecycleReport()  # merged only if the savepoint is released
                try:
                    with session.begin_nested():
                        _drive_one(session, scratch, d, released, plans[d.id],
                                   honors.get(d.ori, True), now)  # fmt: skip
                except lifecycle.LifecycleError as exc:
                    report.errors.append(f"{tcn}: {exc}")
                else:
                    report.transitions.update(scratch.transitions)
                    report.waiting += scratch.waiting
                    report.release_eligible_adjusted += scratch.release_eligible_adjusted
        if progress is not None:
            progress(min(lo + _CHUNK, len(mine)), len(mine))
    with session_factory() as session, session.begin():
        swept = lifecycle.expire_due(session, now=now)
    report.transitions["expired_by_clock"] += len(swept)
    # releases after a swept expiry (the LEA was told the hold ended)
    for d in mine:
        plan = plans[d.id]
        held = DetainerKind(d.kind) is not DetainerKind.notification_request
        if plan.outcome != "expired" or not held or not honors.get(d.ori, True):
            continue  # the others were released (or taken) at the release time already
        try:
            with session_factory() as session, session.begin():
                row = session.get(Detainer, d.id)
                if row is None or row.state is not S.expired or row.hold_until is None:
                    continue
                if row.hold_until > now:
                    continue
                _apply(report, "released_after_expiry", session, row, lifecycle.report_release,
                       released_at=row.hold_until, actor=LEA_ACTOR)  # fmt: skip
        except lifecycle.LifecycleError as exc:
            report.errors.append(f"{rows[d.case_id][0]}: {exc}")
    with session_factory() as session:
        ids = [d.id for d in mine]
        for lo in range(0, len(ids), 5000):
            for state, n in session.execute(
                select(Detainer.state, func.count())
                .where(Detainer.id.in_(ids[lo : lo + 5000]))
                .group_by(Detainer.state)
            ):
                report.outcomes[getattr(state, "value", state)] += n
        mine_ids = set(ids)
        report.violations = sum(1 for d, _e in lifecycle.violations(session) if d.id in mine_ids)
    return report


def _apply(report: LifecycleReport, name: str, session: Session, d: Detainer, fn, **kw) -> None:
    """Call a lifecycle transition; count it only if it wrote an event (not a no-op retry)."""
    before = _events_for(session, d.id)
    fn(session, d.id, **kw)
    session.flush()
    if _events_for(session, d.id) != before:
        report.transitions[name] += 1


def _events_for(session: Session, detainer_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(DetainerEvent)
            .where(DetainerEvent.detainer_id == detainer_id)
        )
        or 0
    )


def _drive_one(
    session: Session, report: LifecycleReport, ref: Any, release_eligible: dt.datetime | None,
    plan: _Plan, honors: bool, now: dt.datetime,
) -> None:  # fmt: skip
    d = session.get(Detainer, ref.id)
    assert d is not None
    if release_eligible is None:
        return  # the nation gives no release time: the person is still held pre-trial
    t_re = release_eligible
    if t_re < d.issued_at:
        t_re = d.issued_at + LATE_LODGE_DELAY
        report.release_eligible_adjusted += 1
    # 1. conditional: the court date before release
    if d.state is S.pending_condition:
        court = max(t_re - plan.court_before, d.issued_at + dt.timedelta(minutes=1))
        if court > now:
            report.waiting += 1
            return
        for index, disposition in enumerate(plan.dispositions):
            before = _events_for(session, d.id)
            lifecycle.record_disposition(
                session, case_id=d.case_id, charge_index=index, disposition=disposition,
                at=court, actor=LEA_ACTOR,
            )  # fmt: skip
            session.flush()
            session.refresh(d)
            if _events_for(session, d.id) != before:
                report.transitions["disposition"] += 1
            if d.state is not S.pending_condition:
                break  # activated or lapsed: later charges no longer matter to it
    if d.state in (S.lapsed, S.lifted, S.custody):
        return
    # 2. the release-eligible time
    if d.state is S.active and d.release_eligible_at is None:
        if t_re > now:
            report.waiting += 1
            return
        _apply(report, "release_eligible", session, d, lifecycle.report_release_eligible,
               at=t_re, actor=LEA_ACTOR)  # fmt: skip
        session.refresh(d)
    t_re = d.release_eligible_at or t_re
    # 3. the outcome
    if d.kind is DetainerKind.notification_request or not honors:
        if d.state not in (S.active, S.holding):
            return
        if t_re > now:
            report.waiting += 1
            return
        if plan.custody_at_door:
            _apply(report, "custody", session, d, lifecycle.assume_custody, at=t_re,
                   actor=ICE_ACTOR)  # fmt: skip
        else:
            _apply(report, "released", session, d, lifecycle.report_release, released_at=t_re,
                   actor=LEA_ACTOR)  # fmt: skip
        return
    if d.state is not S.holding or d.hold_until is None:
        return
    window = d.hold_until - t_re
    if plan.outcome == "custody":
        at = t_re + min(dt.timedelta(hours=plan.custody_delay_h), window * 0.95)
        if at > now:
            report.waiting += 1
            return
        _apply(report, "custody", session, d, lifecycle.assume_custody, at=at, actor=ICE_ACTOR)
    elif plan.outcome == "lifted":
        at = t_re + window * plan.lift_fraction
        if at > now:
            report.waiting += 1
            return
        _apply(report, "lifted", session, d, lifecycle.lift, at=at, actor=ICE_ACTOR,
               reason="not a removal priority on review (synthetic)")  # fmt: skip
    elif plan.outcome == "held_past_expiry":
        at = d.hold_until + dt.timedelta(hours=plan.late_h)
        if at > now:
            report.waiting += 1
            return
        _apply(report, "released_late", session, d, lifecycle.report_release, released_at=at,
               actor=LEA_ACTOR)  # fmt: skip
    # "expired": nothing to do here; the clock sweep and the release follow in drive_lifecycle
