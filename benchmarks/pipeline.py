"""Pipeline throughput benchmark (DESIGN 7: >= 3,000 bookings/s end to end on the embedded
default): seed a synthetic world, submit its bookings, run the worker with simulated officers
(``--auto-accept``) until idle, and report bookings per second -- intake, worker, and end to
end (submit + match + decide + persist + notify + audit) -- with two baselines measured in the
same run on the same backend:

* ``raw_insert``: the same number of booking-sized rows (a JSON payload of the same size) inserted
  into a scratch table in one transaction with one multi-row insert -- the floor cost of just
  persisting each booking once;
* ``policy_only``: the compiled policy pack deciding the run's cases alone (no database).

    .venv/bin/python benchmarks/pipeline.py --bookings 20000 --backend sqlite
    .venv/bin/python benchmarks/pipeline.py --bookings 20000 --backend postgresql
    .venv/bin/python benchmarks/pipeline.py --bookings 5000 --backend sqlite --profile
    SECURECOMM_SQLITE_SYNCHRONOUS=NORMAL .venv/bin/python benchmarks/pipeline.py --bookings 20000

Writes ``benchmarks/results/pipeline-<backend>-<bookings>-<utc time>.json`` (git-ignored): the
rates, the ratios to the baselines, seconds per stage, what the run produced (cases,
decisions, detainers, notices, audit entries) and the audit verification. ``--profile`` adds
the cProfile top functions of the worker (cumulative and own time). PostgreSQL: ``--pg-url`` or
``SECURECOMM_TEST_POSTGRES_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``);
the run uses a fresh schema that is dropped afterwards.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import platform
import pstats
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    func,
    insert,
    make_url,
    select,
    text,
)

RESULTS = Path(__file__).resolve().parent / "results"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _database(backend: str, pg_url: str, workdir: Path) -> tuple[str, callable]:
    """A fresh database URL and a cleanup function."""
    if backend == "sqlite":
        path = workdir / "pipeline.db"
        return f"sqlite:///{path}", lambda: None
    from securecomm.store.db import make_engine

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(pg_url).update_query_dict({"options": f"-csearch_path={schema}"})

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()

    return url.render_as_string(hide_password=False), drop


def _raw_insert_baseline(engine, payloads: list[dict]) -> float:
    """Rows per second: booking-sized rows, one transaction, one multi-row insert."""
    meta = MetaData()
    scratch = Table(
        f"bench_raw_{uuid.uuid4().hex[:8]}", meta,
        Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
        Column("tcn", String(64), unique=True), Column("ori", String(9)), Column("payload", JSON),
    )  # fmt: skip
    meta.create_all(engine)
    try:
        rows = [{"tcn": p["tcn"], "ori": p["ori"], "payload": p} for p in payloads]
        started = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(insert(scratch), rows)
        return len(rows) / (time.perf_counter() - started)
    finally:
        meta.drop_all(engine)


def _policy_baseline(engine) -> tuple[float, int]:
    """Decisions per second of the compiled pack over the run's cases (no database)."""
    from securecomm.law.engine import CompiledPack
    from securecomm.law.packs import PACKS
    from securecomm.law.schema import Case
    from securecomm.store.models import CaseRecord

    with engine.connect() as conn:
        docs = [r[0] for r in conn.execute(select(CaseRecord.case_json))]
    if not docs:
        return 0.0, 0
    cases = [Case.model_validate(d) for d in docs]
    pack = CompiledPack(PACKS["tfsc-2011"])
    started = time.perf_counter()
    for c in cases:
        pack.decide(c)
    return len(cases) / (time.perf_counter() - started), len(cases)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bookings", type=int, default=20_000)
    ap.add_argument(
        "--persons", type=int, default=None, help="IDENT population (default bookings/2)"
    )
    ap.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument("--batch-size", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=2011)
    ap.add_argument(
        "--pg-url", default=os.environ.get("SECURECOMM_TEST_POSTGRES_URL") or PG_DEFAULT
    )
    ap.add_argument("--profile", action="store_true", help="cProfile the worker (slower)")
    ap.add_argument("--no-biographic-model", action="store_true", help="skip Splink training")
    args = ap.parse_args(argv)

    from securecomm.interop import stages as stages_mod
    from securecomm.interop import worker as worker_mod
    from securecomm.interop.adapters import agencies_for, gallery_paths
    from securecomm.interop.intake import submit_bookings
    from securecomm.interop.settings import load_settings
    from securecomm.interop.synthetic_world import WorldSpec, generate_world, seed_world
    from securecomm.store import audit
    from securecomm.store.db import make_engine, session_factory, upgrade
    from securecomm.store.models import (
        AuditEntry,
        CaseRecord,
        DecisionRecord,
        Detainer,
        Notice,
        OfficerAction,
        Submission,
    )  # fmt: skip

    RESULTS.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="pipeline-bench-", dir=RESULTS))
    url, cleanup = _database(args.backend, args.pg_url, workdir)
    result: dict = {
        "benchmark": "pipeline",
        "backend": args.backend,
        "bookings": args.bookings,
        "batch_size": args.batch_size,
        "seed": args.seed,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "sqlite": sqlite3.sqlite_version,
        },
        # FULL (default) or NORMAL: SECURECOMM_SQLITE_SYNCHRONOUS, see securecomm.store.db
        "sqlite_synchronous": os.environ.get("SECURECOMM_SQLITE_SYNCHRONOUS", "").upper() or "FULL",
        "started_at": dt.datetime.now(dt.UTC).isoformat(),
    }
    try:
        upgrade(url)
        engine = make_engine(url)
        sessions = session_factory(engine)
        settings = load_settings(data_dir=workdir / "data")

        t = time.perf_counter()
        persons = args.persons or max(args.bookings // 2, 500)
        world = generate_world(WorldSpec(persons=persons, bookings=args.bookings, seed=args.seed))
        with sessions() as s, s.begin():
            seed_world(s, world)
        lines = list(world.booking_lines())
        agencies = agencies_for(engine.url, settings)
        worker_mod.prepare(engine, agencies)  # galleries built outside the timed run
        if not args.no_biographic_model:
            from securecomm.interop.commands import _train_biographic

            path = gallery_paths(settings.data_dir_for(url), settings.file_prefix_for(url))[
                "biographic"
            ]
            with sessions() as s:
                _train_biographic(s, agencies, path)
        result["world"] = {**world.counts(), "setup_s": round(time.perf_counter() - t, 2)}
        print(f"world: {result['world']}", file=sys.stderr)

        # stage timings: wrap the stage functions
        spent: dict[str, float] = defaultdict(float)
        items: dict[str, int] = defaultdict(int)

        def timed(spec):
            def run(session, ctx, batch):
                t0 = time.perf_counter()
                try:
                    return spec.run(session, ctx, batch)
                finally:
                    spent[spec.stage.value] += time.perf_counter() - t0
                    items[spec.stage.value] += len(batch)

            return stages_mod.StageSpec(spec.stage, run, spec.needs_auto_accept)

        worker_mod.AUTOMATIC = tuple(timed(s) for s in stages_mod.AUTOMATIC)

        t = time.perf_counter()
        report = submit_bookings(sessions, lines, source="benchmark")
        submit_s = time.perf_counter() - t
        assert report.accepted == args.bookings, report.to_dict()

        profiler = cProfile.Profile() if args.profile else None
        t = time.perf_counter()
        if profiler:
            profiler.enable()
        wrep = worker_mod.run_worker(
            engine,
            settings=settings,
            agencies=agencies,
            batch_size=args.batch_size,
            auto_accept=True,
        )
        if profiler:
            profiler.disable()
            if os.environ.get("PIPELINE_PROFILE_DUMP"):  # a pstats file for closer reading
                profiler.dump_stats(os.environ["PIPELINE_PROFILE_DUMP"])
        worker_s = time.perf_counter() - t

        with sessions() as s:
            produced = {
                name: s.scalar(select(func.count()).select_from(model))
                for name, model in (
                    ("cases", CaseRecord), ("decisions", DecisionRecord),
                    ("officer_actions", OfficerAction), ("detainers", Detainer),
                    ("notices", Notice), ("audit_entries", AuditEntry),
                )
            }  # fmt: skip
            produced["stages"] = {
                str(k): v
                for k, v in s.execute(
                    select(Submission.stage, func.count()).group_by(Submission.stage)
                ).all()
            }
        t = time.perf_counter()
        with sessions() as s:
            verified = audit.verify(s)
        verify_s = time.perf_counter() - t

        raw_rate = _raw_insert_baseline(
            engine, [world.bookings[i] for i in range(len(world.bookings))]
        )
        policy_rate, policy_n = _policy_baseline(engine)
        end_to_end = args.bookings / (submit_s + worker_s)
        result.update(
            {
                "rates_per_s": {
                    "intake": round(args.bookings / submit_s, 1),
                    "worker": round(args.bookings / worker_s, 1),
                    "end_to_end": round(end_to_end, 1),
                    "baseline_raw_insert": round(raw_rate, 1),
                    "baseline_policy_only": round(policy_rate, 1),
                },
                "ratios": {
                    "end_to_end_vs_raw_insert": round(end_to_end / raw_rate, 4),
                    "end_to_end_vs_policy_only": round(end_to_end / policy_rate, 4)
                    if policy_rate
                    else None,
                },
                "target_bookings_per_s": 3000,
                "seconds": {
                    "submit": round(submit_s, 2),
                    "worker": round(worker_s, 2),
                    "audit_verify": round(verify_s, 2),
                    "stages": {
                        k: round(v, 2) for k, v in sorted(spent.items(), key=lambda kv: -kv[1])
                    },
                },
                "ms_per_item": {k: round(spent[k] / items[k] * 1e3, 3) for k in spent if items[k]},
                "worker": wrep.to_dict(),
                "produced": produced,
                "policy_baseline_cases": policy_n,
                "audit": {"ok": verified.ok, "entries": verified.entries},
            }
        )
        if profiler:
            buf = io.StringIO()
            pstats.Stats(profiler, stream=buf).sort_stats("cumulative").print_stats(40)
            result["profile_top"] = buf.getvalue().splitlines()[:80]
            buf = io.StringIO()
            pstats.Stats(profiler, stream=buf).sort_stats("tottime").print_stats(30)
            result["profile_top_own_time"] = buf.getvalue().splitlines()[:60]
        engine.dispose()
    finally:
        cleanup()
        shutil.rmtree(workdir, ignore_errors=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"pipeline-{args.backend}-{args.bookings}-{stamp}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    r = result["rates_per_s"]
    print(
        f"{args.backend}: {args.bookings} bookings -> end to end {r['end_to_end']:.0f}/s "
        f"(intake {r['intake']:.0f}/s, worker {r['worker']:.0f}/s); baselines: raw insert "
        f"{r['baseline_raw_insert']:.0f} rows/s, policy only {r['baseline_policy_only']:.0f}/s; "
        f"ratio to raw insert {result['ratios']['end_to_end_vs_raw_insert']:.3f}; "
        f"audit {'ok' if result['audit']['ok'] else 'BROKEN'}; stages {result['seconds']['stages']}"
    )
    print(f"wrote {out}")
    return 0 if result["audit"]["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
