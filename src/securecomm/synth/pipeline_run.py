"""Run a sample of the synthetic nation through the real pipeline (issue 4, part 3).

:func:`run_pipeline_sample`: a seeded sample of whole persons in a contiguous month range ->
the pipeline world (:mod:`.to_world`) -> ``db upgrade`` (Alembic) -> repositories seeded ->
bookings JSON Lines -> intake -> the worker with the pack and simulated officers
(``auto_accept``) -> the LEAs and ICE (:mod:`.lea`) -> the audit log verified -> Booking
outcome v1 exported (``out_dir/pipeline-booking-outcomes.parquet``) -> the per-TCN agreement of
the pipeline's decisions with the bulk decision of the same flat rows.

Time in the simulation
    The bookings are submitted and processed in *ticks* of simulated time (``tick``, default
    one day, widened so that there are at most ``max_ticks``: each tick costs a worker run,
    ~60 ms on SQLite): the bookings of a tick are submitted at its end and the worker runs
    with its clock :data:`PROCESSING_DELAY` later, so a detainer is issued the simulated day
    the person was booked -- not when this program happens to run -- and the LEAs' release
    and custody times (in the nation's calendar) come after it (a release-eligible time before
    the issue is moved after it and counted: ``lifecycle.release_eligible_adjusted``). The
    galleries are built once and reused.

Settings are passed in code (``PipelineSettings``: the policy from the beginning of time,
``auto_accept``, the data directory ``out_dir/pipeline-data``); no configuration file or
environment variable of the user is read or written.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import Engine, make_url, select

from ..interop.adapters import agencies_for
from ..interop.intake import submit_bookings
from ..interop.settings import PipelineSettings
from ..interop.stages import case_id_for
from ..interop.synthetic_world import seed_world
from ..interop.worker import run_worker, stage_counts
from ..law.engine import CompiledPack
from ..policy_files import load_policy
from ..stats.from_store import booking_outcomes_from_store
from ..store import audit
from ..store.db import make_engine, session_factory, upgrade
from ..store.models import DecisionRecord
from .lea import drive_lifecycle
from .to_world import flat_record, row_limits, unrepresentable, world_from_nation

__all__ = [
    "OUTCOMES_FILE",
    "PipelineRunReport",
    "process_bookings",
    "run_pipeline_sample",
    "sample_nation",
]

UTC = dt.UTC
OUTCOMES_FILE = "pipeline-booking-outcomes.parquet"
BOOKINGS_FILE = "pipeline-bookings.jsonl"
_BEGINNING = dt.date(1900, 1, 1)
#: Processing delay after a tick's end: the worker's clock (detainers' issue time).
PROCESSING_DELAY = dt.timedelta(minutes=20)


@dataclass
class PipelineRunReport:
    policy: str
    database: str
    sample_rows: int
    persons: int
    months: tuple[str, str] | None
    world: dict[str, int] = field(default_factory=dict)
    inconsistent: dict[str, int] = field(default_factory=dict)
    unrepresentable: dict[str, int] = field(default_factory=dict)
    submit: dict[str, Any] = field(default_factory=dict)
    stages: dict[str, int] = field(default_factory=dict)
    failed: int = 0
    ticks: int = 0
    tick_hours: float = 0.0
    lifecycle: dict[str, Any] = field(default_factory=dict)
    audit_ok: bool = False
    audit_entries: int = 0
    audit_summary: str = ""
    outcomes_path: str = ""
    outcome_rows: int = 0
    ident_compared: int = 0
    ident_disagreeing: int = 0
    ident_disagreements: list[dict[str, Any]] = field(default_factory=list)
    decisions_compared: int = 0
    decisions_disagreeing: int = 0
    disagreements: list[dict[str, Any]] = field(default_factory=list)
    disagreeing_unrepresentable: int = 0
    #: disagreements whose recommended action differs (the rest differ in bases / factors)
    disagreeing_action: int = 0
    #: Decision v1 fields that differ, counted over the disagreeing TCNs
    disagreeing_fields: dict[str, int] = field(default_factory=dict)
    #: to_world.row_limits reasons, counted over the disagreeing TCNs
    disagreeing_reasons: dict[str, int] = field(default_factory=dict)
    #: the first few TCNs whose action differs
    action_disagreements: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def bookings_per_second(self) -> float:
        spent = self.timings.get("submit_s", 0) + self.timings.get("worker_s", 0)
        return self.sample_rows / spent if spent > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["bookings_per_second"] = round(self.bookings_per_second, 1)
        return out


# --------------------------------------------------------------------------- sampling


def sample_nation(nation: pa.Table, sample: int, *, seed: int) -> pa.Table:
    """About ``sample`` bookings: whole persons (every booking of a chosen person in the
    range) in a contiguous range of months starting at a seeded month, extended forward
    (then backward) until it holds ``sample`` bookings. Rows in ``booked_at`` order."""
    if isinstance(sample, bool) or not isinstance(sample, int) or sample < 1:
        raise ValueError(f"sample: a positive integer expected, got {sample!r}")
    for col in ("month", "person_id", "booked_at"):
        if col not in nation.column_names:
            raise ValueError(f"nation: missing column {col}")
    if nation.num_rows == 0:
        raise ValueError("nation: no rows")
    rng = random.Random(seed)
    months = np.asarray(pc.cast(nation.column("month"), pa.int32()).to_numpy(zero_copy_only=False))
    distinct, counts = np.unique(months, return_counts=True)
    lo = hi = rng.randrange(len(distinct))
    total = int(counts[lo])
    while total < sample and (hi + 1 < len(distinct) or lo > 0):
        if hi + 1 < len(distinct):
            hi += 1
            total += int(counts[hi])
        else:
            lo -= 1
            total += int(counts[lo])
    in_range = (months >= distinct[lo]) & (months <= distinct[hi])
    persons = np.asarray(nation.column("person_id").to_numpy(zero_copy_only=False))[in_range]
    ids, per = np.unique(persons, return_counts=True)
    order = list(range(len(ids)))
    rng.shuffle(order)
    chosen, n = [], 0
    for k in order:
        if n >= sample:
            break
        chosen.append(ids[k])
        n += int(per[k])
    picked = nation.filter(pa.array(in_range))
    picked = picked.filter(pc.is_in(picked.column("person_id"), pa.array(chosen, pa.int64())))
    return picked.sort_by([("booked_at", "ascending"), ("tcn", "ascending")])


# --------------------------------------------------------------------------- the run


def _ticks(world_bookings: list[dict[str, Any]], tick: dt.timedelta):
    """Group booking lines by simulated tick (bookings are in time order)."""
    import json

    if not world_bookings:
        return
    first = dt.datetime.fromisoformat(world_bookings[0]["booked_at"]).astimezone(UTC)
    origin = first.replace(hour=0, minute=0, second=0, microsecond=0)
    batch: list[str] = []
    end = origin + tick
    for b in world_bookings:
        at = dt.datetime.fromisoformat(b["booked_at"]).astimezone(UTC)
        while at >= end:
            if batch:
                yield end, batch
                batch = []
            end += tick
        batch.append(json.dumps(b, separators=(",", ":")))
    if batch:
        yield end, batch


def _comparable(decision: dict[str, Any]) -> dict[str, Any]:
    out = dict(decision)
    out.pop("case_id", None)
    return out


def process_bookings(
    engine: Engine,
    bookings: list[dict[str, Any]],
    settings: PipelineSettings,
    *,
    tick: dt.timedelta = dt.timedelta(days=1),
    max_ticks: int = 120,
    batch_size: int = 500,
    auto_accept: bool = True,
) -> dict[str, Any]:
    """Submit ``bookings`` (Booking submission v1 documents in time order) tick by tick of
    simulated time and run the worker after each tick with its clock at the tick's end plus
    :data:`PROCESSING_DELAY` (see the module docstring). Returns counts and timings."""
    if not isinstance(tick, dt.timedelta) or tick <= dt.timedelta(0):
        raise ValueError(f"tick: a positive timedelta expected, got {tick!r}")
    if isinstance(max_ticks, bool) or not isinstance(max_ticks, int) or max_ticks < 1:
        raise ValueError(f"max_ticks: a positive integer expected, got {max_ticks!r}")
    sf = session_factory(engine)
    agencies = agencies_for(engine.url, settings)
    model = agencies.immigration.biographic_model
    if model is not None and not model.is_file():
        # the worker refuses to run without it (securecomm.preflight): train it on the
        # seeded IDENT encounters, as `securecomm world seed` does
        with sf() as session:
            agencies.immigration.train_model(session)
    times = [dt.datetime.fromisoformat(b["booked_at"]) for b in bookings]
    span = (max(times) - min(times)) if times else tick
    tick = max(tick, span / max_ticks + dt.timedelta(microseconds=1))
    submitted: dict[str, Any] = {"read": 0, "accepted": 0, "duplicates": 0, "rejected": 0}
    rejections: list[str] = []
    out: dict[str, Any] = {"ticks": 0, "tick_hours": round(tick / dt.timedelta(hours=1), 3),
                           "failed": 0, "submit_s": 0.0, "worker_s": 0.0}  # fmt: skip
    for end, lines in _ticks(bookings, tick):
        out["ticks"] += 1
        t1 = time.perf_counter()
        sub = submit_bookings(sf, lines, source="pipeline-sample", now=lambda e=end: e)
        out["submit_s"] += time.perf_counter() - t1
        for k in ("read", "accepted", "duplicates", "rejected"):
            submitted[k] += getattr(sub, k)
        rejections += [r.describe() for r in sub.rejections[:5]]
        clock_at = end + PROCESSING_DELAY
        t1 = time.perf_counter()
        wr = run_worker(
            engine, settings=settings, agencies=agencies, batch_size=batch_size,
            clock=lambda c=clock_at: c, auto_accept=auto_accept,
        )  # fmt: skip
        out["worker_s"] += time.perf_counter() - t1
        out["failed"] += wr.failed
    out["submit"] = {**submitted, "first_rejections": rejections[:5]}
    return out


def run_pipeline_sample(
    nation: pa.Table,
    *,
    database_url: str,
    policy: str,
    sample: int,
    seed: int,
    out_dir: Path | str,
    progress: Callable[[str, dict[str, Any]], None] | None = None,
    tick: dt.timedelta = dt.timedelta(days=1),
    max_ticks: int = 120,
    batch_size: int = 500,
) -> PipelineRunReport:
    """Run ``sample`` bookings of ``nation`` through the pipeline on ``database_url`` (a
    fresh database: seeding refuses one that holds repository data) under ``policy`` (a pack
    name or variant YAML). ``progress(phase, info)`` is told as each phase ends."""
    if not isinstance(tick, dt.timedelta) or tick <= dt.timedelta(0):
        raise ValueError(f"tick: a positive timedelta expected, got {tick!r}")
    if isinstance(max_ticks, bool) or not isinstance(max_ticks, int) or max_ticks < 1:
        raise ValueError(f"max_ticks: a positive integer expected, got {max_ticks!r}")
    if isinstance(sample, bool) or not isinstance(sample, int) or sample < 1:
        raise ValueError(f"sample: a positive integer expected, got {sample!r}")
    try:
        pack = load_policy(policy)
    except ValueError as exc:
        raise ValueError(f"policy: {exc}") from None
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda _phase, _info: None)
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    picked = sample_nation(nation, sample, seed=seed)
    world = world_from_nation(picked, seed=seed)
    timings["world_s"] = time.perf_counter() - t0
    months = picked.column("month").to_pylist()
    report = PipelineRunReport(
        policy=policy,
        database=make_url(database_url).render_as_string(hide_password=True),
        sample_rows=picked.num_rows,
        persons=len(set(picked.column("person_id").to_pylist())),
        months=(min(months).isoformat(), max(months).isoformat()) if months else None,
        world=world.counts(),
        inconsistent=dict(getattr(world, "inconsistent", {})),
        unrepresentable=unrepresentable(picked),
    )
    say("world", {"rows": picked.num_rows, **report.world})

    t0 = time.perf_counter()
    engine = make_engine(database_url)
    try:
        upgrade(engine=engine)
        sf = session_factory(engine)
        with sf() as session, session.begin():
            seed_world(session, world)
        world.write_bookings(out / BOOKINGS_FILE)
        timings["seed_s"] = time.perf_counter() - t0
        say("seed", {"s": round(timings["seed_s"], 2)})

        settings = PipelineSettings(
            policy_entries=((_BEGINNING, policy),),
            data_dir=out / "pipeline-data",
            auto_accept=True,
        )
        processed = process_bookings(
            engine, world.bookings, settings, tick=tick, max_ticks=max_ticks,
            batch_size=batch_size,
        )  # fmt: skip
        submitted = processed["submit"]
        submit_s, worker_s = processed["submit_s"], processed["worker_s"]
        report.ticks, report.tick_hours = processed["ticks"], processed["tick_hours"]
        report.failed = processed["failed"]
        timings["submit_s"], timings["worker_s"] = submit_s, worker_s
        report.timings = timings
        report.submit = submitted
        with sf() as session:
            report.stages = {
                str(getattr(k, "value", k)): v for k, v in stage_counts(session).items()
            }
        say("pipeline", {"bookings_per_s": round(report.bookings_per_second, 1), **submitted})

        t0 = time.perf_counter()
        lr = drive_lifecycle(sf, picked, seed=seed)
        timings["lifecycle_s"] = time.perf_counter() - t0
        report.lifecycle = lr.to_dict()
        say("lifecycle", report.lifecycle)

        t0 = time.perf_counter()
        with sf() as session:
            verified = audit.verify(session)
        timings["audit_verify_s"] = time.perf_counter() - t0
        report.audit_ok, report.audit_entries = verified.ok, verified.entries
        report.audit_summary = verified.summary()
        say("audit", {"ok": verified.ok, "entries": verified.entries})

        t0 = time.perf_counter()
        table = booking_outcomes_from_store(engine, policy=pack.name)
        path = out / OUTCOMES_FILE
        pq.write_table(table, path)
        timings["export_s"] = time.perf_counter() - t0
        report.outcomes_path, report.outcome_rows = str(path), table.num_rows
        say("export", {"rows": table.num_rows, "path": str(path)})

        t0 = time.perf_counter()
        _agreement(report, sf, picked, table, pack)
        timings["compare_s"] = time.perf_counter() - t0
    finally:
        engine.dispose()
    report.timings = {k: round(v, 3) for k, v in timings.items()}
    return report


def _agreement(report: PipelineRunReport, sf, picked: pa.Table, table: pa.Table, pack) -> None:
    """Per TCN: the IDENT match against the nation's ``ident_match``; for rows matched on
    both sides, the stored Decision v1 against the bulk engine's decision of the flat row."""
    rows = {r["tcn"]: r for r in picked.to_pylist()}
    matched = dict(
        zip(table.column("tcn").to_pylist(), table.column("ident_match").to_pylist(), strict=True)
    )
    for tcn, row in rows.items():
        got = matched.get(tcn)
        report.ident_compared += 1
        if got is None or got != bool(row["ident_match"]):
            report.ident_disagreeing += 1
            if len(report.ident_disagreements) < 5:
                report.ident_disagreements.append(
                    {"tcn": tcn, "pipeline": got, "nation": bool(row["ident_match"]),
                     "false_match": bool(row["false_match"])}
                )  # fmt: skip
    both = [t for t, r in rows.items() if r["ident_match"] and matched.get(t)]
    stored: dict[str, dict[str, Any]] = {}
    case_ids = [case_id_for(t) for t in both]
    with sf() as session:
        for lo in range(0, len(case_ids), 5000):
            for case_id, decision in session.execute(
                select(DecisionRecord.case_id, DecisionRecord.decision)
                .where(
                    DecisionRecord.case_id.in_(case_ids[lo : lo + 5000]),
                    DecisionRecord.policy == pack.name,
                )
                .order_by(DecisionRecord.recorded_at, DecisionRecord.id)
            ):
                stored[case_id] = decision
    compiled = CompiledPack(pack)
    for tcn in both:
        want = _comparable(compiled.decide_record(flat_record(rows[tcn])).model_dump(mode="json"))
        got = stored.get(case_id_for(tcn))
        report.decisions_compared += 1
        if got is not None and _comparable(got) == want:
            continue
        report.decisions_disagreeing += 1
        limits = row_limits(rows[tcn])
        if limits:
            report.disagreeing_unrepresentable += 1
        mine = _comparable(got) if got is not None else {}
        differ = [k for k, v in want.items() if mine.get(k) != v]
        for k in differ:
            report.disagreeing_fields[k] = report.disagreeing_fields.get(k, 0) + 1
        for reason in limits:
            report.disagreeing_reasons[reason] = report.disagreeing_reasons.get(reason, 0) + 1
        if "action" in differ:
            report.disagreeing_action += 1
            if len(report.action_disagreements) < 5:
                report.action_disagreements.append(
                    {"tcn": tcn, "pipeline": mine.get("action"), "bulk": want["action"],
                     "unrepresentable": limits}
                )  # fmt: skip
        if len(report.disagreements) < 5:
            fields = (
                {k: {"pipeline": mine.get(k), "bulk": want[k]} for k in differ if k != "reasons"}
                if got is not None else {"decision": "none stored"}
            )  # fmt: skip
            report.disagreements.append({"tcn": tcn, "fields": fields, "unrepresentable": limits})
