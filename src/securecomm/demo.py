"""``securecomm demo`` — the main job: a synthetic nation through the whole system.

Stages (each reports progress as ``progress(stage, completed, total)``):

1. **nation** — the calibrated synthetic nation (``securecomm.synth.nation``), every county on
   the real rollout, one row per booking;
2. **bulk** — every IDENT-matched booking evaluated under the four packs at once
   (``securecomm.bulk``), then what follows simulated with common random numbers
   (``booking-outcomes-<pack>.parquet``, Booking outcome v1);
3. **statistics** — the monthly statistics per jurisdiction under the chosen pack (CSV,
   Parquet, HTML for the last month) and the Colorado-style quarterly state report for the last
   quarter (Task Force I rec. 4, II rec. 4);
4. **comparison** — the four packs side by side over the same caseload;
5. **pipeline** — a sample of the nation through the real pipeline on SQLite (submit, worker,
   simulated officers and LEAs, detainer clocks, audit log), its own monthly statistics from the
   store, and its per-booking agreement with the bulk decisions;
6. **report** — ``index.html`` tying it together, and ``summary.json``.

The figures are synthetic; nothing identifies a real person.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

__all__ = ["DEMO_PACKS", "DemoConfig", "DemoResult", "run_demo"]

DEMO_PACKS = ("morton-2011", "tfsc-2011", "tfsc-2011-strict", "pep-2014")
STAGES = ("nation", "bulk", "statistics", "comparison", "pipeline", "report")

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class DemoConfig:
    out_dir: Path = Path("out/demo")
    scale: str = "small"  # small | national (securecomm.synth.nation.SCALES)
    policy: str = "tfsc-2011"  # the pack the pipeline runs and the statistics report
    seed: int = 2011
    pipeline_sample: int = 2000  # bookings through the real pipeline; 0 skips it

    def __post_init__(self) -> None:
        from .synth.nation import SCALES

        if self.scale not in SCALES:
            raise ValueError(f"scale: expected one of {', '.join(SCALES)}, got {self.scale!r}")
        if self.policy not in DEMO_PACKS:
            raise ValueError(f"policy: expected one of {', '.join(DEMO_PACKS)}, got {self.policy!r}")
        if not isinstance(self.pipeline_sample, int) or not 0 <= self.pipeline_sample <= 100_000:
            raise ValueError(f"pipeline_sample: 0..100000 bookings, got {self.pipeline_sample!r}")


@dataclass
class DemoResult:
    config: DemoConfig
    paths: dict[str, str] = field(default_factory=dict)
    nation: dict[str, Any] = field(default_factory=dict)
    comparison: list[dict[str, Any]] = field(default_factory=list)
    statistics: dict[str, Any] = field(default_factory=dict)
    pipeline: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["config"] = {k: str(v) if isinstance(v, Path) else v for k, v in d["config"].items()}
        return d


def _noop(stage: str, completed: int, total: int) -> None:
    return None


def run_demo(config: DemoConfig, progress: Progress | None = None) -> DemoResult:
    """Run every stage; write ``config.out_dir``; return the figures. See the module doc."""
    progress = progress or _noop
    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result = DemoResult(config)
    clock = time.perf_counter()

    def done(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        result.seconds[stage] = round(now - clock, 2)
        clock = now

    _nation(config, out, result, progress)
    done("nation")
    outcomes = _bulk(config, out, result, progress)
    done("bulk")
    _statistics(config, out, result, outcomes[config.policy], progress)
    done("statistics")
    _comparison(out, result, outcomes, progress)
    done("comparison")
    if config.pipeline_sample:
        _pipeline(config, out, result, _pipeline_rows(out / "nation.parquet"), progress)
        _oversight(out, result)  # oversight: the monthly report of the pipeline's store
    done("pipeline")
    _report(out, result, outcomes[config.policy])
    done("report")
    progress("report", 1, 1)
    return result


# --------------------------------------------------------------------------- stages


def _nation(config: DemoConfig, out: Path, result: DemoResult, progress: Progress) -> None:
    from .synth.nation import NationSpec, write_nation

    spec = NationSpec.for_scale(config.scale, seed=config.seed)
    path = out / "nation.parquet"
    write_nation(spec, path, lambda s, c, t: progress("nation", c, t))
    # the summary needs four columns; a national year read whole would take tens of GB
    nation = pq.read_table(
        path, columns=["month", "jurisdiction_ori", "jurisdiction_state", "ident_match"]
    )
    months = pc.min_max(nation["month"]).as_py()
    result.paths["nation"] = str(path)
    result.nation = {
        "bookings": nation.num_rows,
        "jurisdictions_booking": pc.count_distinct(nation["jurisdiction_ori"]).as_py(),
        "states": pc.count_distinct(nation["jurisdiction_state"]).as_py(),
        "ident_matches": pc.sum(nation["ident_match"]).as_py() or 0,
        "first_month": months["min"].isoformat()[:7],
        "last_month": months["max"].isoformat()[:7],
        "sample_fraction": spec.sample_fraction,
        "seed": config.seed,
    }


# The pipeline sample is drawn from the last months of the nation: enough bookings for any
# sample size the demo allows, without reading a national year into memory.
PIPELINE_MONTHS = 3


def _pipeline_rows(path: Path) -> pa.Table:
    import pyarrow.dataset as ds

    months = pq.read_table(path, columns=["month"])["month"]
    last = pc.max(months).as_py()
    first = (last.replace(day=1) - dt.timedelta(days=31 * (PIPELINE_MONTHS - 1))).replace(day=1)
    dataset = ds.dataset(path, format="parquet")
    return dataset.to_table(filter=ds.field("month") >= pa.scalar(first, pa.date32()))


def _bulk(config: DemoConfig, out: Path, result: DemoResult, progress: Progress) -> dict[str, Path]:
    from .synth.nation import nation_outcomes

    paths = nation_outcomes(
        out / "nation.parquet", list(DEMO_PACKS), out / "bulk", seed=config.seed,
        progress=lambda s, c, t: progress("bulk", c, t),
    )  # fmt: skip
    for pack, path in paths.items():
        result.paths[f"outcomes:{pack}"] = str(path)
    return paths


def _last_quarter(last_month: dt.date) -> str:
    """The last calendar quarter whose three months are all in the data."""
    q = (last_month.month - 1) // 3 + 1
    year = last_month.year
    if last_month.month % 3 != 0:  # the quarter is incomplete: the one before
        q -= 1
        if q == 0:
            year, q = year - 1, 4
    return f"{year}-Q{q}"


def _statistics(
    config: DemoConfig, out: Path, result: DemoResult, source: Path, progress: Progress
) -> None:
    from .stats.monthly import monthly_statistics_table
    from .stats.quarterly import quarterly_report
    from .stats.reports import monthly_html, quarterly_html

    progress("statistics", 0, 4)
    long = monthly_statistics_table(source, policy=config.policy)
    csv_path, parquet_path = out / "monthly-statistics.csv", out / "monthly-statistics.parquet"
    pacsv.write_csv(long, csv_path)
    pq.write_table(long, parquet_path)
    progress("statistics", 1, 4)
    last = pc.max(long["month"]).as_py()
    last_label = last.strftime("%Y-%m")
    month_long = long.filter(pc.equal(long["month"], pa.scalar(last, pa.date32())))
    html_path = out / f"monthly-statistics-{last_label}.html"
    html_path.write_text(
        monthly_html(month_long, policy=config.policy, month=last_label), encoding="utf-8"
    )
    progress("statistics", 2, 4)
    quarter = _last_quarter(last)
    q_long = quarterly_report(source, quarter=quarter, policy=config.policy).to_pyarrow()
    q_csv, q_html = out / f"quarterly-{quarter}.csv", out / f"quarterly-{quarter}.html"
    pacsv.write_csv(q_long, q_csv)
    q_html.write_text(
        quarterly_html(q_long, policy=config.policy, quarter=quarter), encoding="utf-8"
    )
    progress("statistics", 3, 4)
    national = _national_totals(long)
    result.paths.update(
        monthly_csv=str(csv_path), monthly_parquet=str(parquet_path),
        monthly_html=str(html_path), quarterly_csv=str(q_csv), quarterly_html=str(q_html),
    )  # fmt: skip
    result.statistics = {
        "policy": config.policy,
        "rows": long.num_rows,
        "jurisdiction_months": long.group_by(["month", "ori"]).aggregate([]).num_rows,
        "last_month": last_label,
        "quarter": quarter,
        "national_by_month": national,
    }
    progress("statistics", 4, 4)


# The national monthly series drawn in the report: (measure, category or None for the sum).
_SERIES = (
    ("submissions", None, "submissions"),
    ("ident_matches", None, "IDENT matches"),
    ("detainers", None, "detainers"),
    ("ice_custody", None, "booked into ICE custody"),
    ("removals", None, "removed"),
)


def _national_totals(long: pa.Table) -> list[dict[str, Any]]:
    """Sum the long statistics over jurisdictions: one row per month and series."""
    import duckdb

    con = duckdb.connect()
    con.register("long", long)
    rows = con.execute(
        "SELECT month, measure, sum(count) FROM long GROUP BY month, measure ORDER BY month"
    ).fetchall()
    con.close()
    wanted = {m: label for m, _, label in _SERIES}
    return [
        {"month": m.strftime("%Y-%m"), "series": wanted[measure], "count": int(n or 0)}
        for m, measure, n in rows
        if measure in wanted
    ]


def _comparison(
    out: Path, result: DemoResult, outcomes: dict[str, Path], progress: Progress
) -> None:
    from .stats.comparison import compare_policies

    progress("comparison", 0, 1)
    comparison = compare_policies({p: outcomes[p] for p in DEMO_PACKS}, out / "comparison")
    result.comparison = comparison.table.to_pylist()
    result.paths.update(
        comparison_csv=str(comparison.csv), comparison_html=str(comparison.html)
    )
    progress("comparison", 1, 1)


def _pipeline(
    config: DemoConfig, out: Path, result: DemoResult, nation: pa.Table, progress: Progress
) -> None:
    from .stats.monthly import monthly_statistics_table
    from .synth.pipeline_run import run_pipeline_sample

    db = out / "pipeline" / "securecomm.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    for stale in db.parent.glob("securecomm.db*"):  # a fresh store each run
        stale.unlink()
    phases = ["world", "seed", "submit", "worker", "lifecycle", "audit", "export", "compare"]
    seen: list[str] = []

    def tell(phase: str, info: dict[str, Any]) -> None:
        seen.append(phase)
        progress("pipeline", min(len(seen), len(phases)), len(phases))

    report = run_pipeline_sample(
        nation, database_url=f"sqlite:///{db}", policy=config.policy,
        sample=config.pipeline_sample, seed=config.seed, out_dir=db.parent, progress=tell,
    )  # fmt: skip
    stats_path = db.parent / "pipeline-monthly-statistics.csv"
    pacsv.write_csv(monthly_statistics_table(report.outcomes_path), stats_path)
    result.paths.update(
        pipeline_db=str(db), pipeline_outcomes=str(report.outcomes_path),
        pipeline_monthly_csv=str(stats_path),
    )  # fmt: skip
    result.pipeline = {
        "bookings": report.sample_rows,
        "months": list(report.months) if report.months else None,
        "stages": report.stages,
        "failed": report.failed,
        "bookings_per_second": round(report.bookings_per_second, 1),
        "lifecycle": {k: v for k, v in report.lifecycle.items() if isinstance(v, int | dict)},
        "audit_ok": report.audit_ok,
        "audit_entries": report.audit_entries,
        "ident_compared": report.ident_compared,
        "ident_disagreeing": report.ident_disagreeing,
        "decisions_compared": report.decisions_compared,
        "decisions_disagreeing": report.decisions_disagreeing,
        "disagreeing_unrepresentable": report.disagreeing_unrepresentable,
        "disagreeing_action": report.disagreeing_action,
        "disagreeing_reasons": report.disagreeing_reasons,
        "unrepresentable": report.unrepresentable,
        "timings": report.timings,
    }
    (db.parent / "pipeline-report.json").write_text(
        json.dumps(result.pipeline, indent=2, default=str), encoding="utf-8"
    )


# --------------------------------------------------------------------------- oversight


def _oversight(out: Path, result: DemoResult) -> None:
    """The monthly oversight report (II rec. 3, IV rec. 5) of the pipeline sample's last
    month, from its store, small cells protected (``securecomm oversight report``)."""
    from .oversight.adherence import monthly_report
    from .oversight.render import write_adherence
    from .store.db import make_engine, session_factory

    months = result.pipeline.get("months")
    if not months:
        return
    engine = make_engine(f"sqlite:///{result.paths['pipeline_db']}")
    try:
        with session_factory(engine)() as session:
            report = monthly_report(session, months[1][:7])
    finally:
        engine.dispose()
    paths = write_adherence(report.protected(), out / "oversight")
    result.paths["oversight_html"] = str(paths["html"])


def _report(out: Path, result: DemoResult, source: Path) -> None:
    from .stats.render import render

    charts = [
        {
            "title": f"National monthly series under {result.config.policy}",
            "spec": _line_chart(result.statistics["national_by_month"]),
        },
        {
            "title": "Detainers by policy pack (same caseload)",
            "spec": _comparison_chart(result.comparison),
        },
    ]
    html = render(
        "demo.html.j2",
        title="securecomm demo — a synthetic nation under four policies",
        subtitle="Secure Communities as the HSAC Task Force (Sept. 2011) recommended it be "
        "reformed. Synthetic data only.",
        charts=charts,
        result=result.to_dict(),
        links=_links(out, result),
    )
    index = out / "index.html"
    index.write_text(html, encoding="utf-8")
    result.paths["report"] = str(index)
    (out / "summary.json").write_text(
        json.dumps(result.to_dict(), indent=2, default=str), encoding="utf-8"
    )


def _links(out: Path, result: DemoResult) -> list[dict[str, str]]:
    labels = {
        "monthly_html": "Monthly statistics per jurisdiction (last month, HTML)",
        "monthly_csv": "Monthly statistics, every month and jurisdiction (CSV)",
        "monthly_parquet": "Monthly statistics (Parquet)",
        "quarterly_html": "Quarterly state report, convicted vs non-criminal (HTML)",
        "comparison_html": "Policy comparison (HTML)",
        "comparison_csv": "Policy comparison (CSV)",
        "pipeline_monthly_csv": "Monthly statistics of the pipeline run, from the store (CSV)",
        "oversight_html": "Oversight report: overrides, supervisor review, holds past the "
        "limit (pipeline run, last month, HTML)",
    }
    return [
        {"label": label, "href": str(Path(result.paths[key]).relative_to(out))}
        for key, label in labels.items()
        if key in result.paths
    ]


def _line_chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    import altair as alt
    import pandas as pd

    frame = pd.DataFrame(rows)
    return (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            # years on the time axis ("Oct 2008"), counts with thousands separators
            x=alt.X("month:T", title="month", axis=alt.Axis(format="%b %Y")),
            y=alt.Y("count:Q", title="bookings a month (log scale)",
                    scale=alt.Scale(type="symlog"), axis=alt.Axis(format=",d")),
            color=alt.Color("series:N", sort=[label for *_, label in _SERIES]),
            tooltip=["month", "series", "count"],
        )
        .properties(width=700, height=300)
        .to_dict()
    )


def _comparison_chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    import altair as alt
    import pandas as pd

    long = []
    for r in rows:
        for key, label in (
            ("detainers_unconditional", "unconditional detainer"),
            ("detainers_conditional", "conditional detainer"),
            ("notification_requests", "notification request"),
        ):
            if key in r:
                long.append({"policy": r["policy"], "kind": label, "count": r[key]})
    return (
        alt.Chart(pd.DataFrame(long))
        .mark_bar()
        .encode(
            x=alt.X("policy:N", sort=list(DEMO_PACKS)),
            y=alt.Y("count:Q", stack=True, title="detainers and notification requests",
                    axis=alt.Axis(format=",d")),
            color="kind:N",
            tooltip=["policy", "kind", "count"],
        )
        .properties(width=400, height=300)
        .to_dict()
    )
