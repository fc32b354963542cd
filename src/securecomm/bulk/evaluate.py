"""Bulk evaluation of a caseload under one or more policy packs, with comparisons.

``evaluate_caseload(caseload, packs, out_dir)`` writes, per pack, ``decisions-<pack>.parquet``
(the outcome columns of ``CompiledPack.evaluate`` plus ``policy``, ``policy_version``,
``priority``, ``requires_supervisor_approval``, ``notify`` — each meaning exactly what
``engine.assemble_decision`` computes), and across packs ``actions_by_policy.csv``,
``rule_counts.csv`` and ``differences.parquet``.

A case that cannot be decided (two applicable action rules of the top rank disagree, or no
action rule applies) is never given a default: the whole pack fails with a ``PolicyError``
naming up to ten such cases and the rules involved — the very errors single-case evaluation
raises for them — and its decisions file is not left behind.

Engines: ``duckdb`` (default, in process) and ``spark`` (the same Ibis expressions on PySpark in
local mode; one SparkSession per process). Summaries over the written decision files are read
with DuckDB whatever the engine: they are small aggregates over this run's own output.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir
import pyarrow.parquet as pq

from securecomm.law.engine import (
    BoundPack,
    NoApplicableRule,
    PolicyConflict,
    PolicyError,
    assemble_decision,
    bind_pack,
    column_name,
    resolve_action,
)
from securecomm.law.model import Pack
from securecomm.law.schema import Action, Decision

from .backends import connect, duckdb_connection
from .caseload import CaseloadError, check_caseload
from .ibis_compiler import compile_outcomes, outcome_columns

MAX_NAMED_CASES = 10
DECISION_COLUMNS = (
    "policy",
    "policy_version",
    "priority",
    "requires_supervisor_approval",
    "notify",
    "decline_reason",
)

ProgressFn = Callable[[str, int, int], None]  # (stage, completed, total)


# --------------------------------------------------------------------------- errors


class BulkPolicyError(PolicyError):
    """Cases of a caseload that cannot be decided under a pack.

    ``errors`` are the single-case errors (``PolicyConflict`` / ``NoApplicableRule``) of up to
    ten of them; ``total`` counts them all; ``case_ids`` and ``rules`` name them.
    """

    def __init__(self, policy: str, total: int, errors: list[PolicyError]):
        self.policy, self.total, self.errors = policy, total, errors
        self.case_ids = [e.case_id for e in errors]  # type: ignore[attr-defined]
        self.rules = sorted({r.id for e in errors for r in getattr(e, "rules", [])})
        kinds = sorted({type(e).__name__ for e in errors})
        shown = f" (first {len(errors)})" if total > len(errors) else ""
        details = "; ".join(str(e) for e in errors)
        super().__init__(
            f"policy {policy}: {total} case(s) cannot be decided [{', '.join(kinds)}]"
            f"{shown}: {details}"
        )


class BulkPolicyConflict(BulkPolicyError):
    """At least one named case has conflicting action rules at its top applicable rank."""


class BulkNoApplicableRule(BulkPolicyError):
    """The named cases have no applicable action rule."""


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class PackResult:
    policy: str
    policy_version: str
    cases: int
    actions: dict[str, int]  # action -> cases
    rules_fired: dict[str, int]  # rule id -> cases
    decisions_path: Path
    seconds: float  # compile + evaluate + write (+ check) of this pack


@dataclass(frozen=True)
class EvaluationResult:
    engine: str
    caseload: Path
    cases: int
    packs: list[PackResult]
    actions_by_policy_path: Path
    rule_counts_path: Path
    differences_path: Path
    differences: int  # cases whose action differs between the packs
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)

    def pack(self, name: str) -> PackResult:
        for p in self.packs:
            if p.policy == name:
                return p
        raise KeyError(name)


# --------------------------------------------------------------------------- decision columns


def decision_columns(pack: Pack, bound: BoundPack, outcomes: ir.Table) -> ir.Table:
    """Outcomes plus the Decision v1 summary columns, computed as ``assemble_decision`` does:
    ``priority`` the least priority of the fired priority rules, ``requires_supervisor_approval``
    any supervisor rule fired, ``notify`` any disclosure rule fired that is delivered (``always``
    or no suppression fired), ``decline_reason`` the deciding rule's (``decisive_rule``)."""
    t = outcomes

    def fired(kind: str, where: Callable[[Any], bool] = lambda r: True) -> list[ir.BooleanValue]:
        return [t[column_name(r.id)] for r in bound.rules if r.kind == kind and where(r)]

    def any_of(values: list[ir.BooleanValue]) -> ir.BooleanValue:
        out = ibis.literal(False)
        for v in values:
            out = out | v
        return out

    levels = sorted({r.priority for r in bound.rules if r.kind == "priority"})
    priority = ibis.cases(
        *[(any_of(fired("priority", lambda r, p=p: r.priority == p)), p) for p in levels],
        else_=ibis.null("string"),
    ) if levels else ibis.null("string")  # fmt: skip
    suppressed = any_of(fired("suppression"))
    always = any_of(fired("disclosure", lambda r: r.always))
    unless_suppressed = any_of(fired("disclosure", lambda r: not r.always))
    declines = [(t.action_rule == r.id, r.decline_reason) for r in bound.action_rules if r.decline_reason]
    decline = (
        ibis.cases(*declines, else_=ibis.null("string")) if declines else ibis.null("string")
    )
    return t.mutate(
        decline_reason=decline,
        policy=ibis.literal(pack.name),
        policy_version=ibis.literal(pack.policy_version),
        priority=priority,
        requires_supervisor_approval=any_of(fired("supervisor")),
        notify=always | (unless_suppressed & ~suppressed),
    )


def decisions_from_outcomes(pack: Pack, rows: Iterable[Mapping[str, Any]]) -> list[Decision]:
    """Decision v1 objects from bulk rows (outcome columns; extra columns are ignored) —
    through ``engine.assemble_decision``, like single-case evaluation. A row without an action
    raises the single-case error (``PolicyConflict`` / ``NoApplicableRule``)."""
    bound = bind_pack(pack)
    out = []
    for row in rows:
        if row.get("action") is None:
            _raise_single(pack, bound, row)
        out.append(assemble_decision(pack, bound, row))
    return out


def _raise_single(pack: Pack, bound: BoundPack, row: Mapping[str, Any]) -> None:
    applicable = [(r, bool(row[column_name(r.id)])) for r in bound.action_rules]
    resolve_action(str(row["case_id"]), pack.name, applicable)
    raise PolicyError(f"case {row['case_id']}: no action in bulk row, yet rules resolve")


def _single_error(pack: Pack, bound: BoundPack, row: Mapping[str, Any]) -> PolicyError:
    try:
        _raise_single(pack, bound, row)
    except PolicyError as exc:
        return exc
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------- evaluation


def evaluate_caseload(
    caseload: str | Path,
    packs: list[Pack],
    out_dir: Path,
    *,
    engine: str = "duckdb",
    progress: ProgressFn | None = None,
) -> EvaluationResult:
    """Evaluate every case of a Parquet caseload under each pack; see the module doc.

    ``progress(stage, completed, total)`` is called as packs complete (stage ``"pack <name>"``)
    and for the comparison (stage ``"compare"``).
    """
    started = time.perf_counter()
    caseload = Path(caseload)
    out_dir = Path(out_dir)
    if not packs:
        raise ValueError("evaluate_caseload: at least one pack")
    names = [p.name for p in packs]
    # the names become columns of differences.parquet: distinct whatever the case (DuckDB and
    # Spark resolve identifiers case-insensitively) and never the key column
    folded = [n.casefold() for n in names]
    if len(set(folded)) != len(folded):
        raise ValueError(f"evaluate_caseload: pack names must be distinct, got {names}")
    if "case_id" in folded:
        raise ValueError("evaluate_caseload: 'case_id' cannot be a pack name")
    check_caseload(caseload)
    out_dir.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    cases = _scan_caseload(caseload)
    timings["scan"] = time.perf_counter() - t0
    con = connect(engine)
    table = con.read_parquet(os.fspath(caseload))
    total = len(packs) + 1
    results = []
    for i, pack in enumerate(packs):
        results.append(_evaluate_pack(con, engine, table, pack, out_dir, cases))
        timings[f"pack {pack.name}"] = results[-1].seconds
        if progress is not None:
            progress(f"pack {pack.name}", i + 1, total)
    t0 = time.perf_counter()
    paths, differences = _compare(results, packs, out_dir)
    timings["compare"] = time.perf_counter() - t0
    if progress is not None:
        progress("compare", total, total)
    return EvaluationResult(
        engine=engine,
        caseload=caseload,
        cases=cases,
        packs=results,
        actions_by_policy_path=paths[0],
        rule_counts_path=paths[1],
        differences_path=paths[2],
        differences=differences,
        seconds=time.perf_counter() - started,
        timings=timings,
    )


def _scan_caseload(caseload: Path) -> int:
    """Number of cases; duplicate or missing case ids are an error naming them.

    No SQL is built from strings here or below: paths are bound parameters, column names are
    quoted by Ibis (issue 9 item 5: a variant's ``name`` must never reach SQL as text)."""
    con = duckdb.connect()
    (n, distinct, missing) = con.execute(
        "SELECT count(*), count(DISTINCT case_id), count(*) - count(case_id) "
        "FROM read_parquet(?)",
        [os.fspath(caseload)],
    ).fetchall()[0]
    if missing:
        raise CaseloadError(f"{caseload}: {missing} case(s) without a case_id")
    if distinct != n:
        dupes = [
            r[0]
            for r in con.execute(
                "SELECT case_id FROM read_parquet(?) GROUP BY case_id HAVING count(*) > 1 "
                "ORDER BY case_id LIMIT ?",
                [os.fspath(caseload), MAX_NAMED_CASES],
            ).fetchall()
        ]
        raise CaseloadError(
            f"{caseload}: {n - distinct} duplicate case id(s), e.g. {', '.join(dupes)}"
        )
    return int(n)


_SAFE_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def decisions_file_name(policy: str) -> str:
    """``decisions-<policy>.parquet``; a policy name that is not a plain file name (a variant's
    ``name:`` may hold slashes, quotes, newlines ...) gets a slug and a digest instead, so it
    can never leave the output directory or collide with another."""
    if _SAFE_FILE_NAME.fullmatch(policy) and ".." not in policy:
        return f"decisions-{policy}.parquet"
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", policy).strip("._-")[:40] or "policy"
    digest = hashlib.sha256(policy.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"decisions-{slug}-{digest}.parquet"


def _evaluate_pack(
    con,
    engine: str,
    table: ir.Table,
    pack: Pack,
    out_dir: Path,
    cases: int,
) -> PackResult:
    started = time.perf_counter()
    bound = bind_pack(pack)
    outcomes = compile_outcomes(bound, table)
    columns = [*outcome_columns(bound), *DECISION_COLUMNS]
    decisions = decision_columns(pack, bound, outcomes).select(*columns)
    path = out_dir / decisions_file_name(pack.name)
    partial = path.with_name(path.name + ".partial")
    try:
        _write(con, engine, decisions, partial)
        summary = _summarize(pack, bound, partial)
    except BaseException:
        _remove(partial)
        raise
    undecided = summary.pop("__undecided__")
    if undecided:
        rows = _undecided_rows(bound, partial)
        _remove(partial)
        errors = [_single_error(pack, bound, row) for row in rows]
        cls = (
            BulkPolicyConflict
            if any(isinstance(e, PolicyConflict) for e in errors)
            else BulkNoApplicableRule
            if all(isinstance(e, NoApplicableRule) for e in errors)
            else BulkPolicyError
        )
        raise cls(pack.name, undecided, errors)
    os.replace(partial, path)
    actions = summary.pop("__actions__")
    n = summary.pop("__cases__")
    if n != cases:
        raise RuntimeError(f"policy {pack.name}: wrote {n} decisions for {cases} cases")
    return PackResult(
        policy=pack.name,
        policy_version=pack.policy_version,
        cases=n,
        actions=actions,
        rules_fired={r.id: summary[r.id] for r in bound.rules},
        decisions_path=path,
        seconds=time.perf_counter() - started,
    )


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _write(con, engine: str, expr: ir.Table, path: Path) -> None:
    """One Parquet file whatever the engine (Spark writes parts; they are merged here)."""
    if engine == "duckdb":
        con.to_parquet(expr, os.fspath(path), compression="zstd")
        return
    parts = Path(tempfile.mkdtemp(prefix="decisions-", dir=path.parent))
    try:
        con.to_parquet(expr, os.fspath(parts / "out"), mode="overwrite")
        files = sorted((parts / "out").glob("*.parquet"))
        schema = pq.read_schema(files[0]) if files else None
        if schema is None:
            raise RuntimeError("spark wrote no parquet part")
        with pq.ParquetWriter(path, schema, compression="zstd") as writer:
            for f in files:
                pf = pq.ParquetFile(f)
                for i in range(pf.num_row_groups):
                    writer.write_table(pf.read_row_group(i))
    finally:
        shutil.rmtree(parts, ignore_errors=True)


def _summarize(pack: Pack, bound: BoundPack, path: Path) -> dict[str, Any]:
    """Rule firing counts, action counts, the number of undecided cases — Ibis over DuckDB."""
    con = duckdb_connection()
    t = con.read_parquet(os.fspath(path))
    # positional aliases: a rule id never becomes an identifier of the query
    sums = {f"r{i}": t[column_name(r.id)].sum() for i, r in enumerate(bound.rules)}
    row = t.aggregate(n=t.count(), undecided=t.action.isnull().sum(), **sums).to_pyarrow()
    first = {name: row.column(name)[0].as_py() for name in row.column_names}
    out: dict[str, Any] = {
        "__cases__": int(first["n"]),
        "__undecided__": int(first["undecided"] or 0),
    }
    for i, r in enumerate(bound.rules):
        out[r.id] = int(first[f"r{i}"] or 0)
    decided = t.filter(t.action.notnull())
    counted = decided.group_by("action").aggregate(n=decided.count()).to_pyarrow()
    actions = dict(
        zip(counted.column("action").to_pylist(), counted.column("n").to_pylist(), strict=True)
    )
    out["__actions__"] = {a.value: int(actions.get(a.value, 0)) for a in Action} | {
        k: int(v) for k, v in actions.items() if k not in {a.value for a in Action}
    }
    return out


def _undecided_rows(bound: BoundPack, path: Path) -> list[dict[str, Any]]:
    con = duckdb_connection()
    t = con.read_parquet(os.fspath(path))
    cols = ["case_id", *(column_name(r.id) for r in bound.action_rules)]
    rows = t.filter(t.action.isnull()).select(*cols).limit(MAX_NAMED_CASES).to_pyarrow()
    return rows.to_pylist()


# --------------------------------------------------------------------------- comparison


def _compare(
    results: list[PackResult], packs: list[Pack], out_dir: Path
) -> tuple[tuple[Path, Path, Path], int]:
    actions_path = out_dir / "actions_by_policy.csv"
    rules_path = out_dir / "rule_counts.csv"
    diff_path = out_dir / "differences.parquet"
    actions = [a.value for a in Action]
    extra = sorted({a for r in results for a in r.actions if a not in actions})
    with open(actions_path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["action", *(r.policy for r in results)])
        for a in [*actions, *extra]:
            w.writerow([a, *(r.actions.get(a, 0) for r in results)])
    with open(rules_path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["policy", "rule_id", "kind", "citation", "cases_fired"])
        for r, pack in zip(results, packs, strict=True):
            pack_rules = {rule.id: rule for rule in pack.rules}
            for rule_id, n in r.rules_fired.items():
                rule = pack_rules[rule_id]
                w.writerow([r.policy, rule_id, rule.kind, rule.citation, n])
    # Ibis, not SQL text: the policy names become column names, quoted by the engine
    con = duckdb_connection()
    tables = [con.read_parquet(os.fspath(r.decisions_path)) for r in results]
    joined = tables[0].select("case_id", a0=tables[0].action)
    for i, t in enumerate(tables[1:], start=1):
        joined = joined.join(t.select("case_id", **{f"a{i}": t.action}), "case_id")
    differ = ibis.literal(False)
    for i in range(1, len(results)):
        differ = differ | (joined[f"a{i}"] != joined.a0).fill_null(False)
    diff = joined.filter(differ).order_by("case_id")
    diff = diff.select("case_id", **{r.policy: diff[f"a{i}"] for i, r in enumerate(results)})
    partial = diff_path.with_name(diff_path.name + ".partial")
    con.to_parquet(diff, os.fspath(partial), compression="zstd")
    os.replace(partial, diff_path)
    n = pq.ParquetFile(diff_path).metadata.num_rows
    return (actions_path, rules_path, diff_path), int(n)
