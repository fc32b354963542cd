"""The ``securecomm`` command line: a thin Typer front over the packages.

Scripts depend on ``decide``, ``policies`` and ``detainer hold-until``: keep their contract
(arguments, output shape, exit status) stable. Errors, output formats and the database helpers
every command shares are in :mod:`securecomm.cli.preamble` and :mod:`securecomm.cli.render`.
"""

from __future__ import annotations

import json
import logging
import sys
import warnings
from pathlib import Path
from typing import Annotated

import typer

from .. import __version__
from ..law.packs import PACKS
from .preamble import (
    DEBUG_KEY,
    Typer,
    err,
    fail,
    load_policy_or_fail,
    one_line,
    open_input,
    out,
    output_dir,
    writable_file,
)
from .preamble import rejected as rejected_line
from .render import Col, Format, FormatOpt, emit_document, emit_rows

app = Typer(
    help="Secure Communities, as the 2011 Task Force recommended it be reformed: cited policy "
    "decisions, detainer clocks, policy what-if.",
    add_completion=True,
)
detainer_app = Typer(help="Detainer clock (8 CFR 287.7(d)).")
cases_app = Typer(help="Caseload files.")
offenses_app = Typer(help="Offense classification.")
app.add_typer(detainer_app, name="detainer")
app.add_typer(cases_app, name="cases")
app.add_typer(offenses_app, name="offenses")

#: Loggers of libraries that talk on the terminal (Splink's training notes, e.g. levels "not
#: observed" in the data; Spark's gateway). Quiet unless --verbose.
_CHATTY_LOGGERS = ("splink", "py4j", "pyspark", "numexpr", "faiss", "alembic", "httpx")


def _quiet_libraries(verbose: bool) -> None:
    """Library warnings and log lines stay off the terminal unless ``--verbose``: they are not
    the user's to act on, and a library's message may quote data."""
    if verbose:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr)
        warnings.simplefilter("default")
        for name in _CHATTY_LOGGERS:
            logging.getLogger(name).setLevel(logging.INFO)
        return
    warnings.simplefilter("ignore")
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"securecomm {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True,
                     help="Print the version and exit."),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of an error (may show data).")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show library warnings and log messages.")
    ] = False,
) -> None:  # fmt: skip
    ctx.meta[DEBUG_KEY] = debug
    _quiet_libraries(verbose)


def _register_command_groups() -> None:
    """The store (db, audit), pipeline (submit, worker, cases list/show/decide ...) and detainer
    lifecycle (detainers, notices) groups live beside their packages."""
    from ..foia.commands import foia_app
    from ..interop import commands as pipeline_commands
    from ..interop import detainer_commands
    from ..oversight import commands as oversight_commands
    from ..stats.commands import stats_app
    from ..store.commands import audit_app, db_app
    from ..synth.commands import synth_app
    from ..users.commands import users_app
    from ..web import commands as web_commands

    app.add_typer(db_app, name="db", help="Database schema (Alembic migrations).")
    app.add_typer(audit_app, name="audit", help="Tamper-evident audit log.")
    pipeline_commands.register(app, cases_app)
    detainer_commands.register(app)
    app.add_typer(
        stats_app, name="stats", help="Monthly statistics, quarterly reports, policy comparison."
    )
    app.add_typer(synth_app, name="synth", help="Synthetic nation calibrated to published figures.")
    app.add_typer(users_app, name="users", help="Registered users: one identity per person.")
    app.add_typer(
        foia_app, name="foia", help="Real ICE records (FOIA releases): import, measures, summary."
    )
    oversight_commands.register(app)
    web_commands.register(app)  # serve, web demo|seed-demo
    from securecomm.oversight.bias_commands import monitor_app

    app.add_typer(monitor_app, name="monitor", help="Bias and pretext monitoring (TF IV rec. 5).")


_register_command_groups()

PolicyOpt = Annotated[str, typer.Option("--policy", "-p", help="Pack name or variant YAML file.")]


def _policy(name: str):
    return load_policy_or_fail(name)


def _open_input(path: str):
    return open_input(path)


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
        Format,
        typer.Option("--format", "-f", help="json (one Decision v1 per line), table or csv."),
    ] = Format.json,
    rejected: Annotated[
        Path | None, typer.Option(help="Write rejected cases with their reasons here (JSON Lines).")
    ] = None,
) -> None:
    """Decide cases under a policy: one Decision v1 JSON object per line, in input order.

    Invalid cases are reported on stderr naming the case and the field (and kept in --rejected);
    valid cases are still decided; the exit status is 1 if any case was rejected.
    """
    from ..case_files import iter_case_inputs
    from ..law.engine import CompiledPack, PolicyError

    compiled = CompiledPack(_policy(policy))
    decisions, bad = [], []
    if rejected is not None:
        writable_file(rejected, "--rejected")
    stream = _open_input(file)  # a missing FILE fails before --rejected is created
    rejected_out = rejected.open("w", encoding="utf-8") if rejected else None
    with stream:
        for item in iter_case_inputs(stream):
            if item.ok:
                try:
                    decision = compiled.decide(item.case)
                except PolicyError as exc:
                    item.errors = [{"field": "(policy)", "message": str(exc)}]
                else:
                    if fmt is Format.json:
                        sys.stdout.write(decision.model_dump_json() + "\n")
                    else:
                        decisions.append(decision)
                    continue
            bad.append(item)
            rejected_line(item.describe())
            if rejected_out:
                rejected_out.write(json.dumps(item.rejected_record()) + "\n")
    if rejected_out:
        rejected_out.close()
    if fmt is not Format.json:
        rows = [
            {"case_id": d.case_id, "action": d.action.value, "priority": d.priority,
             "priority_bases": d.priority_bases, "level": d.level,
             "supervisor": d.requires_supervisor_approval, "lea_fields": d.lea_disclosure.fields,
             "policy": d.policy, "policy_version": d.policy_version}
            for d in decisions
        ]  # fmt: skip
        columns = [
            Col("case_id", "case", ident=True), Col("action"), Col("priority"),
            Col("priority_bases", "bases"), Col("level"), Col("supervisor"),
            Col("lea_fields", "LEA fields"),
        ]  # fmt: skip
        emit_rows(rows, columns, fmt)
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
    fmt: FormatOpt = Format.table,
) -> None:
    """Explain one decision in plain language, with every rule and its citation.

    json: the Decision v1 document; csv: one row per reason (rule, text, citation)."""
    from ..case_files import iter_case_inputs
    from ..explain import render_explanation
    from ..law.engine import CompiledPack, PolicyError

    pack = _policy(policy)
    with _open_input(case_file) as stream:
        items = [i for i in iter_case_inputs(stream) if case_id is None or i.case_id == case_id]
    if not items:
        fail(f"CASE: no case{' ' + case_id if case_id else ''} found")
    if len(items) > 1:
        fail(f"CASE: {len(items)} cases in the file; choose one with --case-id")
    item = items[0]
    if not item.ok:
        fail(item.describe())
    try:
        decision = CompiledPack(pack).decide(item.case)
    except PolicyError as exc:
        fail(str(exc))
    if fmt is Format.json:
        emit_document(decision.model_dump(mode="json"))
    elif fmt is Format.csv:
        reasons = [r.model_dump(mode="json") for r in decision.reasons]
        emit_rows(reasons, [Col("rule"), Col("text"), Col("citation")], fmt)
    else:
        render_explanation(out, pack, item.case, decision)


@app.command()
def policies(
    policy: Annotated[
        str | None, typer.Option("--policy", "-p", help="Show one pack in detail.")
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """List the policy packs with their sources, rules and parameters."""
    from ..explain import pack_summary, render_pack

    packs = [_policy(policy)] if policy else list(PACKS.values())
    if fmt is Format.json:
        emit_document([pack_summary(p) for p in packs])
        return
    if policy and fmt is Format.table:
        render_pack(out, packs[0])
        return
    rows = [
        {"name": p.name, "policy_version": p.policy_version, "title": p.title,
         "citation": p.citation}
        for p in packs
    ]  # fmt: skip
    columns = [
        Col("name", "pack", ident=True), Col("policy_version", "version"), Col("title"),
        Col("citation", "source"),
    ]  # fmt: skip
    emit_rows(rows, columns, fmt, title="Policy packs",
              footer="Details: securecomm policies --policy NAME  (or --format json)")  # fmt: skip


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
    fmt: Annotated[
        Format | None,
        typer.Option("--format", "-f", help="table, json or csv (default: one ISO 8601 "
                     "hold-until time per line, the scripts' contract).", show_default=False),
    ] = None,
) -> None:  # fmt: skip
    """Print the hold-until time for each release-eligible timestamp, one per line.

    Only hours on business days count (8 CFR 287.7(d)): Friday 17:00 -> Tuesday 17:00.
    A timestamp without an offset is facility local time.
    """
    from ..law.detainer_clock import DetainerClockError, parse_release_time
    from ..law.detainer_clock import hold_until as compute

    params = _policy(policy).parameters
    if hold_hours is not None and not hold_hours > 0:
        fail(f"--hold-hours: {hold_hours:g} is not a positive number of hours")
    hours = hold_hours if hold_hours is not None else params["detainer.hold_hours"].value
    exclude = params["detainer.exclude_non_business_days"].value
    failed = False
    rows = []
    for text in timestamps:
        try:
            start = parse_release_time(text, timezone)
            end = compute(start, timezone, hold_hours=hours, exclude_non_business_days=exclude)
        except DetainerClockError as exc:
            err.print("[red]error[/] ", end="")
            err.print(one_line(f"TIMESTAMPS: {text!r}: {exc}"), markup=False)
            failed = True
            continue
        if fmt is None:
            sys.stdout.write(end.isoformat() + "\n")
        rows.append({"release_eligible_at": start.isoformat(), "hold_until": end.isoformat(),
                     "timezone": timezone, "hold_hours": hours})  # fmt: skip
    if fmt is not None:
        columns = [Col("release_eligible_at", "release-eligible"), Col("hold_until", "hold until")]
        emit_rows(rows, columns, fmt)
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
    from ..bulk.caseload import cases_to_parquet

    output_dir(dst.parent, "DST")  # created if needed (a file in the way is an error)
    writable_file(dst, "DST")
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
    from ..synth.cases import generate_cases

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

    from ..bulk.evaluate import evaluate_caseload
    from ..law.engine import PolicyError

    if engine not in ("duckdb", "spark"):
        fail("--engine: duckdb or spark")
    if not caseload.is_file():
        fail(f"CASELOAD: no such file {str(caseload)!r}")
    packs = [_policy(p) for p in policy]
    output_dir(out_dir, "--out")
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("evaluating", total=len(packs) + 1)

        def step(stage: str, completed: int, total: int) -> None:
            progress.update(task, completed=completed, total=total, description=stage)

        try:
            result = evaluate_caseload(caseload, packs, out_dir, engine=engine, progress=step)
        except PolicyError as exc:
            fail(str(exc), code=1)
        except ValueError as exc:
            fail(str(exc))
    from ..explain import render_evaluation

    render_evaluation(out, result)


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Output directory.")] = Path("out/demo"),
    scale: Annotated[
        str,
        typer.Option(
            help="small (FY2009-FY2012 at 0.2% of the national flow) or national "
            "(FY2012, every booking)."
        ),
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

    from ..demo import STAGES, DemoConfig, run_demo
    from ..explain import render_demo

    try:
        config = DemoConfig(out_dir=out_dir, scale=scale, policy=policy, seed=seed,
                            pipeline_sample=pipeline_sample)  # fmt: skip
    except ValueError as exc:
        fail(str(exc))
    output_dir(out_dir, "--out")
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
        str | None,
        typer.Option(help="infraction | misdemeanor | felony (default: the code family's)"),
    ] = None,
    literal: Annotated[str, typer.Option(help="Offense literal.")] = "",
    injury: bool = False,
    sentence_days: Annotated[int | None, typer.Option(help="Custodial sentence in days.")] = None,
    suspended: bool = False,
    policy: PolicyOpt = "tfsc-2011",
    fmt: FormatOpt = Format.table,
) -> None:
    """Classify one offense and say why, with the citation of each category."""
    from ..law.flatten import fold_literal
    from ..law.ncic import NCIC_OFFENSES
    from ..law.offenses import classify_offense, default_severity

    if ncic not in NCIC_OFFENSES:
        fail(f"NCIC: {ncic!r} is not an NCIC offense code")
    if severity is not None and severity not in ("infraction", "misdemeanor", "felony"):
        fail("--severity: infraction, misdemeanor or felony")
    pack = _policy(policy)
    params = {k: p.value for k, p in pack.parameters.items()}
    family = severity is None
    severity = default_severity(ncic, params) if severity is None else severity
    offense = {
        "ncic": ncic, "literal": fold_literal(literal), "severity": severity, "injury": injury,
        "domestic_violence": False, "disposition": "convicted", "sentence_days": sentence_days,
        "suspended": suspended, "aggravated_felony": None, "gang_element": False, "counsel": None,
        "convicted_on": None, "incident_key": "x", "from_current_charge": False,
        "juvenile_adjudication": False,
    }  # fmt: skip
    found = classify_offense(offense, params)
    # v2: without --severity the code family's (a homicide code is never a misdemeanor)
    source = pack.parameters["offenses.felony_by_default_ncic"].citation if family else None
    if fmt is Format.json:
        emit_document({"ncic": ncic, "title": NCIC_OFFENSES[ncic], "severity": severity,
                       "severity_source": "code family" if family else "given",
                       "literal": literal, "policy": pack.name, "categories": found})  # fmt: skip
        return
    if fmt is Format.csv:
        emit_rows(found, [Col("category"), Col("why"), Col("citation")], fmt)
        return
    out.print(f"{ncic} {NCIC_OFFENSES[ncic]} ({severity}{', ' + literal if literal else ''})",
              highlight=False, markup=False)  # fmt: skip
    if family:
        out.print(f"  severity from the code's family [{source}]; give --severity for the "
                  "jurisdiction's own", highlight=False, markup=False)  # fmt: skip
    for f in found:
        out.print(f"  - {f['category']}: {f['why']}  [{f['citation']}]", highlight=False,
                  markup=False)  # fmt: skip
    if not found:
        out.print("  (no category)")


def main() -> None:
    app(prog_name="securecomm")
