"""Monthly statistics benchmark (DESIGN 7): Ibis on DuckDB against a hand-written DuckDB SQL
query of the same statistics, in the same run.

    .venv/bin/python benchmarks/stats_monthly.py --rows 10000000
    .venv/bin/python benchmarks/stats_monthly.py --rows 1000000 --repeat 3

Generates a Booking outcome v1 table (``securecomm.stats.testing``: ~3,200 jurisdictions,
12 months, seed 2011) once per (rows, seed) into benchmarks/results/ (git-ignored), then times
the full monthly statistics for all months, all jurisdictions, all measures, from the Parquet
file: (a) ``securecomm.stats.monthly_statistics`` (Ibis -> DuckDB), (b) the baseline: one
hand-written DuckDB query (filtered counts + UNPIVOT), written from docs/statistics.md, not
from the Ibis code. Both results must be identical (a difference fails the run).
Target: 10 million bookings <= 5 s on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq

from securecomm.bulk.backends import duckdb_connection
from securecomm.stats.monthly import monthly_statistics
from securecomm.stats.schema import (
    CHARGE_CATEGORIES,
    CONVICTION_STATUSES,
    DECLINE_REASONS,
    PRIORITY_BASES,
    PROGRAMS,
    STATUS_CATEGORIES,
)
from securecomm.stats.testing import generate_outcomes

RESULTS = Path(__file__).resolve().parent / "results"


def hand_sql(path: str) -> str:
    """The monthly statistics as one DuckDB query, by hand (docs/statistics.md)."""
    det = "action IN ('detainer', 'conditional_detainer')"
    cells: list[tuple[str, str, str]] = [
        ("submissions", "all", "TRUE"),
        ("ident_matches", "all", "ident_match"),
    ]
    cells += [("hits_by_status", s, f"ident_match AND status_category = '{s}'")
              for s in STATUS_CATEGORIES]  # fmt: skip
    cells += [
        ("detainers", "unconditional", "action = 'detainer'"),
        ("detainers", "conditional", "action = 'conditional_detainer'"),
        ("notification_requests", "all", "action = 'notification_request'"),
    ]
    cells += [("declines", r, f"decline_reason = '{r}'") for r in DECLINE_REASONS]
    for measure, flag in (("ice_custody", "ice_custody"), ("removals", "removed")):
        cells += [(measure, f"level_{n}", f"{flag} AND level = {n}") for n in (1, 2, 3)]
        cells.append((measure, "non_criminal", f"{flag} AND level IS NULL"))
    cells += [("detainers_by_charge", c, f"{det} AND charge_category = '{c}'")
              for c in CHARGE_CATEGORIES]  # fmt: skip
    cells += [("detainers_by_conviction", c, f"{det} AND conviction_status = '{c}'")
              for c in CONVICTION_STATUSES]  # fmt: skip
    known = [b for b in PRIORITY_BASES if b != "other"]
    known_list = "[" + ", ".join(f"'{b}'" for b in known) + "]"
    for b in PRIORITY_BASES:
        if b == "other":
            cond = (f"{det} AND len(list_filter(priority_bases, x -> NOT list_contains("
                    f"{known_list}, x))) > 0")  # fmt: skip
        else:
            cond = f"{det} AND list_contains(priority_bases, '{b}')"
        cells.append(("detainers_by_priority_basis", b, cond))
    cells.append(("holds_past_expiry", "all", "held_past_expiry"))
    cells += [("submissions_by_program", p, f"program = '{p}'") for p in PROGRAMS]
    cells += [("detainers_by_program", p, f"{det} AND program = '{p}'") for p in PROGRAMS]
    names = [f"c{i:03d}|{m}|{c}" for i, (m, c, _) in enumerate(cells)]
    counts = ",\n  ".join(
        f'count(*) FILTER (WHERE {cond}) AS "{name}"'
        for name, (_, _, cond) in zip(names, cells, strict=True)
    )
    columns = ", ".join(f'"{n}"' for n in names)
    return f"""
WITH wide AS (
  SELECT month, state, ori, county_fips,
  {counts}
  FROM read_parquet('{path}')
  GROUP BY month, state, ori, county_fips
), long AS (
  UNPIVOT wide ON {columns} INTO NAME cell VALUE count
)
SELECT month, state, ori, county_fips,
       split_part(cell, '|', 2) AS measure, split_part(cell, '|', 3) AS category,
       CAST(count AS BIGINT) AS count
FROM long
ORDER BY month, state, ori, county_fips, cell
"""


def run(rows: int, seed: int, repeat: int, threads: int) -> dict:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"outcomes-{rows}-{seed}.parquet"
    if not path.exists():
        t = time.perf_counter()
        table = generate_outcomes(rows, seed=seed)
        pq.write_table(table, path)
        del table
        print(f"generated {rows:,} bookings in {time.perf_counter() - t:.1f} s -> {path}",
              file=sys.stderr)  # fmt: skip
    con = duckdb_connection(threads=threads)
    raw = con.con  # the same DuckDB connection, without Ibis
    sql = hand_sql(str(path))

    # wall and process CPU seconds (CPU of all DuckDB threads: stabler on a shared machine)
    def time_ibis():
        t, c = time.perf_counter(), time.process_time()
        result = monthly_statistics(str(path), backend=con).to_pyarrow()
        return time.perf_counter() - t, time.process_time() - c, result

    def time_hand():
        t, c = time.perf_counter(), time.process_time()
        result = raw.sql(sql).to_arrow_table()
        return time.perf_counter() - t, time.process_time() - c, result

    ibis_times, hand_times, ibis_cpu, hand_cpu = [], [], [], []
    ibis_result = hand_result = None
    for _ in range(repeat):  # interleaved: both see the same machine load
        s, c, ibis_result = time_ibis()
        ibis_times.append(s)
        ibis_cpu.append(c)
        s, c, hand_result = time_hand()
        hand_times.append(s)
        hand_cpu.append(c)
    identical = ibis_result.num_rows == hand_result.num_rows and all(
        ibis_result.column(c).to_pylist() == hand_result.column(c).to_pylist()
        for c in ibis_result.column_names
    )
    groups = raw.execute(f"SELECT count(DISTINCT ori) FROM read_parquet('{path}')").fetchone()[0]
    ibis_s, hand_s = statistics.median(ibis_times), statistics.median(hand_times)
    return {
        "rows": rows,
        "jurisdictions": int(groups),
        "output_rows": ibis_result.num_rows,
        "threads": threads,
        "repeat": repeat,
        "ibis_seconds_median": round(ibis_s, 3),
        "hand_sql_seconds_median": round(hand_s, 3),
        "ibis_cpu_seconds_median": round(statistics.median(ibis_cpu), 3),
        "hand_sql_cpu_seconds_median": round(statistics.median(hand_cpu), 3),
        "ibis_seconds_all": [round(x, 3) for x in ibis_times],
        "hand_sql_seconds_all": [round(x, 3) for x in hand_times],
        "ratio_ibis_over_hand_sql": round(ibis_s / hand_s, 3),
        "identical": identical,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpu_count": os.cpu_count(),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=2011)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    r = run(args.rows, args.seed, args.repeat, args.threads)
    (RESULTS / f"stats_monthly-{args.rows}.json").write_text(json.dumps(r, indent=2))
    print("| rows | jurisdictions | Ibis wall s (CPU s) | hand SQL wall s (CPU s) | ratio | "
          "identical | load avg |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    print(f"| {r['rows']:,} | {r['jurisdictions']:,} | {r['ibis_seconds_median']} "
          f"({r['ibis_cpu_seconds_median']}) | {r['hand_sql_seconds_median']} "
          f"({r['hand_sql_cpu_seconds_median']}) | {r['ratio_ibis_over_hand_sql']} | "
          f"{r['identical']} | {r['load_average']} |")  # fmt: skip
    if not r["identical"]:
        print("FAIL: Ibis and hand-written SQL statistics differ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
