"""Bulk policy evaluation benchmark (DESIGN 7): the rule trees compiled by Ibis on DuckDB
against a hand-written DuckDB SQL query of the same pack's action rule, in the same run.

    .venv/bin/python benchmarks/bulk_eval.py --cases 10000000          # full scale
    .venv/bin/python benchmarks/bulk_eval.py --cases 1000000 --repeat 3

Reports cases per second for both, the ratio (Ibis / hand SQL; target <= 2), and checks that
both give the same action for every case (an independent re-implementation of tfsc-2011's
action rule: a disagreement fails the run). Target: 10 million cases <= 10 s on 2 cores.
The caseload is generated once per (cases, seed) into benchmarks/results/ (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from securecomm.law.packs import PACKS

RESULTS = Path(__file__).resolve().parent / "results"


def _q(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _in(codes) -> str:
    return "(" + ", ".join(_q(c) for c in codes) + ")"


def tfsc_2011_action_sql(params: dict, table: str) -> str:
    """tfsc-2011's action (specification v2), written by hand in DuckDB SQL (not from the trees).

    Parameter values are inlined from the pack so both sides apply the same interpretation.
    """
    p = params
    rx = lambda field, name: f"coalesce(regexp_matches({field}, {_q(p[name])}, 'i'), false)"  # noqa: E731
    # v2: the code decides; a literal refines only catch-all codes, and only the public-order
    # catch-alls can become minor; domestic violence is never minor
    generic = f"o.ncic IN {_in(p['offenses.generic_ncic'])}"
    refinable = f"o.ncic IN {_in(p['offenses.minor_refinable_ncic'])}"
    serious_literal = (
        f"({generic} AND ({rx('o.literal', 'offenses.serious_traffic_literal_pattern')}"
        f" OR {rx('o.literal', 'offenses.dui_literal_pattern')}))"
    )
    traffic = (
        f"(o.ncic IN {_in(p['offenses.minor_traffic_ncic'])} OR o.ncic IN {_in(p['offenses.serious_traffic_ncic'])}"
        f" OR ({refinable} AND {rx('o.literal', 'offenses.minor_traffic_literal_pattern')})"
        f" OR {serious_literal})"
    )
    serious = (
        f"(o.ncic IN {_in(p['offenses.serious_traffic_ncic'])} OR {serious_literal}"
        f" OR (coalesce(o.injury, false) AND {traffic}))"
    )
    dv = f"(coalesce(o.domestic_violence, false) OR o.ncic IN {_in(p['offenses.domestic_violence_ncic'])})"
    minor_or_less = "o.severity IN ('infraction', 'misdemeanor')"
    minor_traffic = f"({traffic} AND {minor_or_less} AND NOT {serious} AND NOT {dv})"
    minor_misd = (
        f"((o.ncic IN {_in(p['offenses.minor_misdemeanor_ncic'])} OR ({refinable} AND "
        f"{rx('o.literal', 'offenses.minor_misdemeanor_literal_pattern')}))"
        f" AND {minor_or_less} AND NOT {traffic} AND NOT {dv})"
    )
    long = p["aggravated_felony.min_sentence_days"]
    no_sentence = ("A", "B", "C", "D", "E", "H", "I", "K", "N")
    with_sentence = ("F", "G", "R", "S")
    af = (
        "(coalesce(o.aggravated_felony = true, false) OR (o.aggravated_felony IS NULL AND ("
        + " OR ".join(f"o.ncic IN {_in(p[f'aggravated_felony.{k}_ncic'])}" for k in no_sentence)
        + f" OR (coalesce(o.sentence_days >= {long}, false) AND ("
        + " OR ".join(f"o.ncic IN {_in(p[f'aggravated_felony.{k}_ncic'])}" for k in with_sentence)
        + ")))))"
    )
    cs = f"(o.ncic IN {_in(p['offenses.controlled_substance_ncic'])})"
    mj = f"(o.ncic IN {_in(p['offenses.simple_marijuana_possession_ncic'])})"
    firearm = f"(o.ncic IN {_in(p['offenses.firearm_ncic'])})"
    cimt = f"(o.ncic IN {_in(p['offenses.moral_turpitude_ncic'])})"

    def n(lst: str, pred: str) -> str:
        return f"len(list_filter({lst}, o -> {pred}))"

    # v2: a juvenile adjudication is not a conviction (Matter of Devison)
    convictions = "list_filter(convictions, o -> NOT coalesce(o.juvenile_adjudication, false))"

    ymd = lambda d: f"(year({d}) * 10000 + month({d}) * 100 + day({d}))"  # noqa: E731
    years = lambda a, b: f"floor(({ymd(b)} - {ymd(a)}) / 10000)"  # noqa: E731
    return f"""
WITH f AS (
  SELECT case_id, person_citizenship_status AS status, person_final_order_on IS NOT NULL AS final_order,
    {n(convictions, af)} AS n_af,
    {n(convictions, "o.severity = 'felony'")} AS n_fel,
    {n(convictions, f"o.severity = 'misdemeanor' AND NOT {minor_traffic}")} AS n_misd,
    ({n(convictions, f"{cs} AND NOT {mj}")} >= 1 OR {n(convictions, mj)} >= 2
      OR {n(convictions, firearm)} >= 1 OR {n(convictions, dv)} >= 1
      OR len(list_distinct(list_transform(list_filter({convictions}, o -> {cimt}), o -> o.incident_key))) >= 2) AS other_ground,
    len(charges) >= 1 AND {n("charges", f"NOT {minor_traffic}")} = 0 AS all_minor_traffic,
    len(charges) >= 1 AND {n("charges", f"NOT ({minor_traffic} OR {minor_misd})")} = 0
      AND {n("charges", f"{minor_misd} AND o.disposition = 'pending'")} >= 1 AS minor_offenses_pending,
    len(charges) >= 1 AND {n("charges", f"NOT ({minor_traffic} OR ({minor_misd} AND o.disposition IN ('dismissed', 'acquitted')))")} = 0
      AND {n("charges", minor_misd)} >= 1 AS minor_offenses_disposed,
    (flag_crime_victim OR flag_crime_witness OR flag_domestic_violence_victim OR flag_civil_rights_plaintiff
      OR person_relief_u_visa OR person_relief_t_visa OR person_relief_vawa) AS protected,
    flag_national_security, flag_gang_member, flag_serious_public_safety_risk, flag_outstanding_criminal_warrant,
    coalesce({years("person_birth_date", "decided_on")} >= {p["priorities.gang_min_age"]}, false) AS gang_age,
    (person_entry = 'without_inspection' OR person_citizenship_status = 'entered_without_inspection') AS ewi,
    coalesce({years("person_entered_us_on", "decided_on")} < {p["priorities.recent_entry_years"]}, false) AS recent,
    person_visa_abuse, person_removal_count, person_immigration_fraud
  FROM {table}
), g AS (
  SELECT *, CASE WHEN n_af >= 1 OR n_fel >= 2 THEN 1 WHEN n_fel >= 1 OR n_misd >= 3 THEN 2
                 WHEN n_misd >= 1 THEN 3 END AS level
  FROM f
), h AS (
  SELECT *,
    (status NOT IN ('us_citizen_by_birth', 'naturalized_citizen', 'unknown') AND (
       status IN ('entered_without_inspection', 'visa_overstay') OR final_order
       OR (status IN ('lawful_permanent_resident', 'nonimmigrant_visa', 'refugee_asylee', 'parolee')
           AND (n_af >= 1 OR other_ground)))) AS removable,
    (flag_national_security OR level IS NOT NULL OR (flag_gang_member AND gang_age)
      OR flag_outstanding_criminal_warrant OR flag_serious_public_safety_risk OR (ewi AND recent)
      OR person_visa_abuse OR final_order OR person_removal_count >= 1 OR person_immigration_fraud) AS higher,
    (flag_national_security OR flag_gang_member OR coalesce(level = 1, false) OR flag_serious_public_safety_risk) AS aggravating
  FROM g
)
SELECT case_id,
  CASE WHEN NOT removable THEN 'no_action'
       WHEN protected AND NOT aggravating THEN 'no_detainer'
       WHEN all_minor_traffic AND NOT higher THEN 'no_detainer'
       WHEN minor_offenses_pending AND NOT higher THEN 'conditional_detainer'
       WHEN minor_offenses_disposed AND NOT higher THEN 'no_detainer'
       ELSE 'detainer' END AS action
FROM h
"""


def ensure_caseload(cases: int, seed: int) -> Path:
    from securecomm.bulk.synthetic import write_synthetic_caseload

    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"caseload-{cases}-{seed}.parquet"
    if not path.exists():
        t = time.perf_counter()
        write_synthetic_caseload(path, cases, seed=seed)
        print(
            f"generated {cases:,} cases in {time.perf_counter() - t:.1f} s -> {path}",
            file=sys.stderr,
        )
    return path


def run(cases: int, seed: int, repeat: int, threads: int) -> dict:
    import ibis

    from securecomm.bulk.ibis_compiler import compile_outcomes
    from securecomm.law.engine import bind_pack

    path = ensure_caseload(cases, seed)
    pack = PACKS["tfsc-2011"]
    params = {k: v.value for k, v in pack.parameters.items()}
    bound = bind_pack(pack)

    from securecomm.bulk.backends import duckdb_connection

    con = duckdb_connection(threads=threads)
    raw = con.con  # the underlying duckdb connection, for the hand-written SQL
    raw.execute(f"CREATE VIEW caseload AS SELECT * FROM read_parquet('{path}')")
    table = con.table("caseload")
    outcomes = compile_outcomes(bound, table)
    rule_cols = [c for c in outcomes.columns if c.startswith("r__")]
    ibis_query = outcomes.aggregate(
        cases=outcomes.case_id.count(),
        **{f"action_{a}": (outcomes.action == a).sum() for a in
           ("no_action", "no_detainer", "conditional_detainer", "detainer", "notification_request")},
        **{c: outcomes[c].sum() for c in rule_cols},
    )  # fmt: skip
    hand_sql = tfsc_2011_action_sql(params, "caseload")
    hand_query = f"SELECT action, count(*) AS n FROM ({hand_sql}) GROUP BY action"

    def time_ibis():
        t = time.perf_counter()
        result = ibis_query.execute()
        return time.perf_counter() - t, result

    def time_hand():
        t = time.perf_counter()
        result = raw.execute(hand_query).fetchall()
        return time.perf_counter() - t, result

    ibis_times, hand_times = [], []
    ibis_result = hand_result = None
    for _ in range(repeat):  # interleaved so machine noise hits both alike
        s, ibis_result = time_ibis()
        ibis_times.append(s)
        s, hand_result = time_hand()
        hand_times.append(s)

    # Correctness: per-case agreement of the two independent implementations (untimed).
    ibis_sql = ibis.to_sql(outcomes.select("case_id", "action"), dialect="duckdb")
    mismatches = raw.execute(
        f"SELECT count(*) FROM ({ibis_sql}) a JOIN ({hand_sql}) b USING (case_id) "
        "WHERE a.action IS DISTINCT FROM b.action"
    ).fetchone()[0]
    ibis_actions = {k.removeprefix("action_"): int(v) for k, v in ibis_result.iloc[0].items()
                    if k.startswith("action_")}  # fmt: skip
    hand_actions = {a: int(n) for a, n in hand_result}
    rule_counts = {c: int(ibis_result.iloc[0][c]) for c in rule_cols}
    ibis_s, hand_s = statistics.median(ibis_times), statistics.median(hand_times)
    return {
        "cases": cases,
        "threads": threads,
        "repeat": repeat,
        "ibis_seconds_median": round(ibis_s, 3),
        "hand_sql_seconds_median": round(hand_s, 3),
        "ibis_cases_per_second": round(cases / ibis_s),
        "hand_sql_cases_per_second": round(cases / hand_s),
        "ratio_ibis_over_hand_sql": round(ibis_s / hand_s, 3),
        "per_case_action_mismatches": int(mismatches),
        "actions_ibis": ibis_actions,
        "actions_hand_sql": hand_actions,
        "rule_counts": rule_counts,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=2011)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    r = run(args.cases, args.seed, args.repeat, args.threads)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"bulk_eval-{args.cases}.json").write_text(json.dumps(r, indent=2))
    print("| cases | Ibis (DuckDB) s | hand SQL s | Ibis cases/s | ratio | mismatches |")
    print("|---|---|---|---|---|---|")
    print(f"| {r['cases']:,} | {r['ibis_seconds_median']} | {r['hand_sql_seconds_median']} | "
          f"{r['ibis_cases_per_second']:,} | {r['ratio_ibis_over_hand_sql']} | {r['per_case_action_mismatches']} |")  # fmt: skip
    print("actions:", json.dumps(r["actions_ibis"]))
    if r["per_case_action_mismatches"]:
        print("FAIL: Ibis and hand-written SQL disagree on some cases", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
