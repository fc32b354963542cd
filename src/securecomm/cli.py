"""The ``securecomm`` command line: a thin Typer front over the packages.

Scripts depend on ``decide``, ``policies`` and ``detainer hold-until``: keep their contract
(arguments, output shape, exit status) stable.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from . import __version__
from .law.packs import PACKS, VariantError

app = typer.Typer(
    help="Secure Communities, as the 2011 Task Force recommended it be reformed: cited policy "
    "decisions, detainer clocks, policy what-if.",
    no_args_is_help=True,
    add_completion=False,
)
detainer_app = typer.Typer(help="Detainer clock (8 CFR 287.7(d)).", no_args_is_help=True)
cases_app = typer.Typer(help="Caseload files.", no_args_is_help=True)
offenses_app = typer.Typer(help="Offense classification.", no_args_is_help=True)
app.add_typer(detainer_app, name="detainer")
app.add_typer(cases_app, name="cases")
app.add_typer(offenses_app, name="offenses")


def _register_command_groups() -> None:
    """The store (db, audit), pipeline (submit, worker, cases list/show/decide ...) and detainer
    lifecycle (detainers, notices) groups live beside their packages."""
    from .interop import commands as pipeline_commands
    from .interop import detainer_commands
    from .stats.commands import stats_app
    from .store.commands import audit_app, db_app
    from .synth.commands import synth_app
    from .users.commands import users_app
    from .web import commands as web_commands

    app.add_typer(db_app, name="db", help="Database schema (Alembic migrations).")
    app.add_typer(audit_app, name="audit", help="Tamper-evident audit log.")
    pipeline_commands.register(app, cases_app)
    detainer_commands.register(app)
    app.add_typer(stats_app, name="stats", help="Monthly statistics, quarterly reports, policy comparison.")
    app.add_typer(synth_app, name="synth", help="Synthetic nation calibrated to published figures.")
    app.add_typer(users_app, name="users", help="Registered users: one identity per person.")
    web_commands.register(app)  # serve, web demo|seed-demo


_register_command_groups()

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

PolicyOpt = Annotated[str, typer.Option("--policy", "-p", help="Pack name or variant YAML file.")]


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def _policy(name: str):
    from .policy_files import load_policy

    try:
        return load_policy(name)
    except VariantError as exc:
        _fail(str(exc))


def _open_input(path: str):
    if path == "-":
        return sys.stdin
    p = Path(path)
    if not p.is_file():
        _fail(f"FILE: no such file {path!r}")
    return p.open(encoding="utf-8", errors="replace")


@app.command()
def version() -> None:
    """Print the version."""
    out.print(__version__)


@app.command()
def decide(
    file: Annotated[
        str, typer.Argument(help="Case file: JSON, JSON array or JSON Lines; - for stdin.")
    ],
    policy: PolicyOpt = "tfsc-2011",
    fmt: Annotated[
        str, typer.Option("--format", help="json (one Decision v1 per line) or table.")
    ] = "json",
    rejected: Annotated[
        Path | None, typer.Option(help="Write rejected cases with their reasons here (JSON Lines).")
    ] = None,
) -> None:
    """Decide cases under a policy: one Decision v1 JSON object per line, in input order.

    Invalid cases are reported on stderr naming the case and the field (and kept in --rejected);
    valid cases are still decided; the exit status is 1 if any case was rejected.
    """
    from .case_files import iter_case_inputs
    from .law.engine import CompiledPack, PolicyError

    if fmt not in ("json", "table"):
        _fail("--format: json or table")
    compiled = CompiledPack(_policy(policy))
    decisions, bad = [], []
    rejected_out = rejected.open("w", encoding="utf-8") if rejected else None
    with _open_input(file) as stream:
        for item in iter_case_inputs(stream):
            if item.ok:
                try:
                    decision = compiled.decide(item.case)
                except PolicyError as exc:
                    item.errors = [{"field": "(policy)", "message": str(exc)}]
                else:
                    if fmt == "json":
                        sys.stdout.write(decision.model_dump_json() + "\n")
                    else:
                        decisions.append(decision)
                    continue
            bad.append(item)
            err.print(f"[red]rejected[/] {item.describe()}", highlight=False, markup=True)
            if rejected_out:
                rejected_out.write(json.dumps(item.rejected_record()) + "\n")
    if rejected_out:
        rejected_out.close()
    if fmt == "table":
        table = Table("case", "action", "priority", "bases", "level", "supervisor", "LEA fields")
        for d in decisions:
            table.add_row(d.case_id, d.action.value, d.priority or "-", ", ".join(d.priority_bases),
                          str(d.level or "-"), "yes" if d.requires_supervisor_approval else "",
                          ", ".join(d.lea_disclosure.fields))  # fmt: skip
        out.print(table)
    if bad:
        err.print(f"{len(bad)} case(s) rejected", highlight=False)
        raise typer.Exit(1)


@app.command()
def explain(
    case_file: Annotated[
        str, typer.Argument(metavar="CASE", help="A case file (JSON); - for stdin.")
    ],
    policy: PolicyOpt = "tfsc-2011",
    case_id: Annotated[
        str | None, typer.Option(help="Which case, if the file holds several.")
    ] = None,
) -> None:
    """Explain one decision in plain language, with every rule and its citation."""
    from .case_files import iter_case_inputs
    from .explain import render_explanation
    from .law.engine import CompiledPack, PolicyError

    pack = _policy(policy)
    with _open_input(case_file) as stream:
        items = [i for i in iter_case_inputs(stream) if case_id is None or i.case_id == case_id]
    if not items:
        _fail(f"CASE: no case{' ' + case_id if case_id else ''} found")
    if len(items) > 1:
        _fail(f"CASE: {len(items)} cases in the file; choose one with --case-id")
    item = items[0]
    if not item.ok:
        _fail(item.describe())
    try:
        decision = CompiledPack(pack).decide(item.case)
    except PolicyError as exc:
        _fail(str(exc))
    render_explanation(out, pack, item.case, decision)


@app.command()
def policies(
    policy: Annotated[
        str | None, typer.Option("--policy", "-p", help="Show one pack in detail.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """List the policy packs with their sources, rules and parameters."""
    from .explain import pack_summary, render_pack

    packs = [_policy(policy)] if policy else list(PACKS.values())
    if fmt == "json":
        sys.stdout.write(json.dumps([pack_summary(p) for p in packs], indent=2, default=str) + "\n")
        return
    if fmt != "table":
        _fail("--format: table or json")
    if policy:
        render_pack(out, packs[0])
        return
    table = Table("pack", "version", "title", "source", title="Policy packs")
    for p in packs:
        table.add_row(p.name, p.policy_version, p.title, p.citation)
    out.print(table)
    out.print("Details: securecomm policies --policy NAME  (or --format json)")


@detainer_app.command("hold-until")
def hold_until(
    timestamps: Annotated[list[str], typer.Argument(help="Release-eligible times, ISO 8601.")],
    timezone: Annotated[str, typer.Option("--timezone", "-z", help="Facility IANA time zone.")],
    policy: Annotated[
        str, typer.Option("--policy", "-p", help="Pack or variant giving detainer.* parameters.")
    ] = "tfsc-2011",
    hold_hours: Annotated[
        float | None, typer.Option(help="Override detainer.hold_hours of the policy.")
    ] = None,
) -> None:
    """Print the hold-until time for each release-eligible timestamp, one per line.

    Only hours on business days count (8 CFR 287.7(d)): Friday 17:00 -> Tuesday 17:00.
    A timestamp without an offset is facility local time.
    """
    from .law.detainer_clock import DetainerClockError, parse_release_time
    from .law.detainer_clock import hold_until as compute

    params = _policy(policy).parameters
    hours = hold_hours if hold_hours is not None else params["detainer.hold_hours"].value
    exclude = params["detainer.exclude_non_business_days"].value
    failed = False
    for text in timestamps:
        try:
            start = parse_release_time(text, timezone)
            end = compute(start, timezone, hold_hours=hours, exclude_non_business_days=exclude)
        except DetainerClockError as exc:
            err.print(f"[red]error[/] {text!r}: {exc}", highlight=False)
            failed = True
            continue
        sys.stdout.write(end.isoformat() + "\n")
    if failed:
        raise typer.Exit(1)


@cases_app.command("to-parquet")
def to_parquet(
    src: Annotated[str, typer.Argument(help="Case v1 JSON Lines (or JSON); - for stdin.")],
    dst: Annotated[Path, typer.Argument(help="Flat caseload Parquet to write.")],
) -> None:
    """Convert Case v1 JSON Lines into a flat Parquet caseload (docs/caseload-columns.md).

    Rejected lines go to DST.rejected.jsonl with the field and reason; exit 1 if any.
    """
    from .bulk.caseload import cases_to_parquet

    with _open_input(src) as stream:
        report = cases_to_parquet(stream, dst)
    out.print(f"{report.accepted} case(s) written to {dst}", highlight=False)
    if report.rejected:
        err.print(
            f"{report.rejected} rejected, with reasons, in {report.rejected_path}", highlight=False
        )
        raise typer.Exit(1)


@cases_app.command("generate")
def generate(
    n: Annotated[int, typer.Option("--n", min=1, max=10_000_000, help="How many cases.")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same cases).")] = 2011,
    output: Annotated[
        Path | None, typer.Option("--out", "-o", help="JSON Lines file (default stdout).")
    ] = None,
) -> None:
    """Generate a synthetic example caseload (Case v1 JSON Lines). Synthetic data only."""
    from .synth.cases import generate_cases

    lines = (json.dumps(c) + "\n" for c in generate_cases(n, seed))
    if output is None:
        sys.stdout.writelines(lines)
    else:
        with output.open("w", encoding="utf-8") as f:
            f.writelines(lines)
        err.print(f"{n} cases written to {output}", highlight=False)


@app.command()
def evaluate(
    caseload: Annotated[
        Path, typer.Argument(help="Flat caseload Parquet (securecomm cases to-parquet).")
    ],
    policy: Annotated[
        list[str], typer.Option("--policy", "-p", help="Pack or variant; repeat to compare.")
    ],
    out_dir: Annotated[Path, typer.Option("--out", help="Output directory.")],
    engine: Annotated[str, typer.Option(help="duckdb (default) or spark.")] = "duckdb",
) -> None:
    """Evaluate a whole caseload under one or more policies (Ibis on DuckDB or PySpark).

    Writes decisions-<policy>.parquet, actions_by_policy.csv, rule_counts.csv and
    differences.parquet (cases whose action differs between policies).
    """
    from rich.progress import Progress

    from .bulk.evaluate import evaluate_caseload
    from .law.engine import PolicyError

    if engine not in ("duckdb", "spark"):
        _fail("--engine: duckdb or spark")
    if not caseload.is_file():
        _fail(f"CASELOAD: no such file {str(caseload)!r}")
    packs = [_policy(p) for p in policy]
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("evaluating", total=len(packs) + 1)

        def step(stage: str, completed: int, total: int) -> None:
            progress.update(task, completed=completed, total=total, description=stage)

        try:
            result = evaluate_caseload(caseload, packs, out_dir, engine=engine, progress=step)
        except PolicyError as exc:
            _fail(str(exc), code=1)
        except ValueError as exc:
            _fail(str(exc))
    from .explain import render_evaluation

    render_evaluation(out, result)


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Output directory.")] = Path("out/demo"),
    scale: Annotated[
        str, typer.Option(help="small (FY2009-FY2012 at 0.2% of the national flow) or national "
                          "(FY2012, every booking).")
    ] = "small",
    policy: PolicyOpt = "tfsc-2011",
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same nation).")] = 2011,
    pipeline_sample: Annotated[
        int, typer.Option(help="Bookings run through the real pipeline on SQLite (0 skips).")
    ] = 2000,
) -> None:
    """The main job: a synthetic nation through the whole system, in about two minutes.

    Builds the calibrated nation, evaluates it under the four packs in bulk, writes the monthly
    statistics (CSV, Parquet, HTML), the quarterly state report and the policy comparison, runs a
    sample through the real pipeline on SQLite, and writes OUT/index.html.
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from .demo import STAGES, DemoConfig, run_demo
    from .explain import render_demo

    try:
        config = DemoConfig(out_dir=out_dir, scale=scale, policy=policy, seed=seed,
                            pipeline_sample=pipeline_sample)  # fmt: skip
    except ValueError as exc:
        _fail(str(exc))
    columns = (TextColumn("{task.description:<11}"), BarColumn(), TextColumn(
        "{task.completed:,}/{task.total:,}"), TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=err) as progress:
        tasks = {s: progress.add_task(s, total=1, start=False) for s in STAGES}

        def step(stage: str, completed: int, total: int) -> None:
            task = tasks[stage]
            progress.start_task(task)
            progress.update(task, completed=completed, total=max(total, 1))

        result = run_demo(config, step)
        for task in tasks.values():
            progress.update(task, completed=progress.tasks[task].total)
    render_demo(out, result)


@offenses_app.command("classify")
def classify(
    ncic: Annotated[str, typer.Argument(help="NCIC code, 4 digits.")],
    severity: Annotated[
        str, typer.Option(help="infraction | misdemeanor | felony")
    ] = "misdemeanor",
    literal: Annotated[str, typer.Option(help="Offense literal.")] = "",
    injury: bool = False,
    sentence_days: Annotated[int | None, typer.Option(help="Custodial sentence in days.")] = None,
    suspended: bool = False,
    policy: PolicyOpt = "tfsc-2011",
) -> None:
    """Classify one offense (DESIGN 3.1) and say why."""
    from .law.flatten import fold_literal
    from .law.ncic import NCIC_OFFENSES
    from .law.offenses import classify_offense

    if ncic not in NCIC_OFFENSES:
        _fail(f"NCIC: {ncic!r} is not an NCIC offense code")
    if severity not in ("infraction", "misdemeanor", "felony"):
        _fail("--severity: infraction, misdemeanor or felony")
    pack = _policy(policy)
    offense = {
        "ncic": ncic, "literal": fold_literal(literal), "severity": severity, "injury": injury,
        "domestic_violence": False, "disposition": "convicted", "sentence_days": sentence_days,
        "suspended": suspended, "aggravated_felony": None, "gang_element": False, "counsel": None,
        "convicted_on": None, "incident_key": "x", "from_current_charge": False,
    }  # fmt: skip
    found = classify_offense(offense, {k: p.value for k, p in pack.parameters.items()})
    out.print(f"{ncic} {NCIC_OFFENSES[ncic]} ({severity}{', ' + literal if literal else ''})")
    for f in found:
        out.print(f"  - {f['category']}: {f['why']}  [{f['citation']}]", highlight=False)
    if not found:
        out.print("  (no category)")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
