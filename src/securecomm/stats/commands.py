"""``securecomm stats``: monthly statistics, quarterly state report, policy comparison.

The main CLI (``securecomm.cli.main``) registers ``stats_app`` (``app.add_typer(stats_app, name="stats")``).
Bad input exits with code 2 and one line on stderr naming the field or value.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import typer

from securecomm.law.packs import VariantError

from ..cli.preamble import DATA, Typer, err, fail, writable_file
from .comparison import compare_policies
from .monthly import monthly_statistics
from .quarterly import quarterly_report
from .reports import monthly_html, quarterly_html
from .source import (
    StatsInputError,
    check_columns,
    load_outcomes,
    open_source,
    parse_month,
    parse_quarter,
    parse_state,
    policies_in,
)

stats_app = Typer(
    help="Published statistics: monthly per jurisdiction, quarterly per state, policy "
    "comparison (HSAC Task Force I rec. 4, II rec. 4)."
)


class Format(StrEnum):
    csv = "csv"
    parquet = "parquet"
    html = "html"


SourceArg = Annotated[
    str, typer.Argument(help="Booking outcome v1: a Parquet file, a directory or a glob.")
]
StateOpt = Annotated[str | None, typer.Option("--state", help="Two-letter state, e.g. CO.")]
PolicyOpt = Annotated[
    str | None, typer.Option("--policy", "-p", help="Policy, when the source holds several.")
]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
OutOpt = Annotated[
    Path | None, typer.Option("--out", "-o", help="Output file (default: stdout; csv only).")
]


def _write(table: pa.Table, fmt: Format, out: Path | None, html: str | None = None) -> None:
    if out is None and fmt is not Format.csv:
        fail(f"--format {fmt.value} needs --out PATH")
    if out is not None:
        writable_file(out, "--out")
    if fmt is Format.csv:
        if out is None:
            sink = pa.BufferOutputStream()
            pacsv.write_csv(table, sink)
            sys.stdout.write(sink.getvalue().to_pybytes().decode("utf-8"))
            sys.stdout.flush()
        else:
            pacsv.write_csv(table, out)
    elif fmt is Format.parquet:
        pq.write_table(table, out)
    else:
        out.write_text(html or "", encoding="utf-8")
    if out is not None:
        err.print(f"wrote {table.num_rows} rows -> {out}", highlight=False)


@stats_app.command("monthly")
def monthly_cmd(
    source: SourceArg,
    month: Annotated[
        str | None, typer.Option("--month", help="YYYY-MM; all months if absent.")
    ] = None,
    state: StateOpt = None,
    policy: PolicyOpt = None,
    fmt: FormatOpt = Format.csv,
    out: OutOpt = None,
    suppress_below: Annotated[
        int | None,
        typer.Option("--suppress-below", help="Hide counts 1..K-1 for public release."),
    ] = None,
) -> None:
    """Monthly statistics per jurisdiction, long format (docs/statistics.md)."""
    try:
        if month is not None:
            parse_month(month)
        if state is not None:
            state = parse_state(state)
        if suppress_below is not None and suppress_below < 1:
            raise StatsInputError(
                f"--suppress-below: expected an integer >= 1, got {suppress_below}"
            )
        outcomes = load_outcomes(source, policy=policy)
        table = monthly_statistics(
            outcomes, month=month, state=state, suppress_below=suppress_below
        ).to_pyarrow()
    except (StatsInputError, VariantError) as exc:
        fail(str(exc))
    if table.num_rows == 0:  # an empty file would look like "no bookings at all"
        where = " ".join(
            x for x in (f"month {month}" if month else "", f"state {state}" if state else "") if x
        )
        fail(f"SOURCE: no bookings{' for ' + where if where else ''} in {source!r}", DATA)
    html = None
    if fmt is Format.html:
        html = monthly_html(
            table, policy=outcomes.policy, month=month, state=state, suppress_below=suppress_below
        )
    _write(table, fmt, out, html)


@stats_app.command("quarterly")
def quarterly_cmd(
    source: SourceArg,
    quarter: Annotated[str, typer.Option("--quarter", help="YYYY-Qn, calendar quarter.")],
    state: StateOpt = None,
    policy: PolicyOpt = None,
    fmt: FormatOpt = Format.csv,
    out: OutOpt = None,
    suppress_below: Annotated[
        int | None,
        typer.Option("--suppress-below", help="Hide counts 1..K-1 for public release."),
    ] = None,
) -> None:
    """Quarterly state report: detainers, ICE custody and removals by level and conviction."""
    try:
        if suppress_below is not None and suppress_below < 1:
            raise StatsInputError(
                f"--suppress-below: expected an integer >= 1, got {suppress_below}"
            )
        parse_quarter(quarter)
        if state is not None:
            state = parse_state(state)
        outcomes = load_outcomes(source, policy=policy)
        table = quarterly_report(
            outcomes, quarter=quarter, state=state, suppress_below=suppress_below
        ).to_pyarrow()
    except (StatsInputError, VariantError) as exc:
        fail(str(exc))
    if table.num_rows == 0:
        fail(
            f"SOURCE: no bookings for quarter {quarter}{' in ' + state if state else ''} in {source!r}",
            DATA,
        )
    html = None
    if fmt is Format.html:
        label = quarter.strip().upper()
        html = quarterly_html(table, policy=outcomes.policy, quarter=label, state=state)
    _write(table, fmt, out, html)


@stats_app.command("compare")
def compare_cmd(
    sources: Annotated[
        list[str],
        typer.Argument(
            help="Booking outcome files of one caseload, one per policy "
            "(or one file holding several policies)."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")],
) -> None:
    """Compare policies over one caseload: CSV, Parquet and HTML in --out."""
    try:
        labelled: dict[str, object] = {}
        for src in sources:
            table = open_source(src)
            check_columns(table.schema(), ("policy",))
            # a file may hold several policies: each one is compared
            for policy in sorted(policies_in(table)):
                if policy in labelled:
                    raise StatsInputError(f"compare: policy {policy!r} appears in two sources")
                labelled[policy] = src
        result = compare_policies(labelled, out)
    except (StatsInputError, VariantError) as exc:
        fail(str(exc))
    for note in result.notes:
        err.print(f"note: {note}", highlight=False)
    err.print(
        f"compared {result.table.num_rows} policies -> {result.csv}, {result.parquet}, "
        f"{result.html}",
        highlight=False,
    )


@stats_app.command("from-store")
def from_store_cmd(
    out: Annotated[Path, typer.Option("--out", "-o", help="Booking outcome v1 Parquet to write.")],
    policy: PolicyOpt = None,
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help="Database URL (default: SECURECOMM_DATABASE_URL or sqlite:///securecomm.db).",
        ),
    ] = None,
) -> None:
    """Export the pipeline's store as Booking outcome v1, the input of the other commands.

    One row per accepted submission (rejected input is not a booking); the officer's final
    action where the case was acted on, else the recommendation; removals are outside the
    pipeline and always false (docs/statistics.md).
    """
    from securecomm.store.db import database_url, display_url

    from .from_store import StoreExportError, booking_outcomes_from_store

    target = url or database_url()
    if out.suffix != ".parquet":
        fail(f"--out: a .parquet file expected, got {str(out)!r}")
    try:
        table = booking_outcomes_from_store(target, policy=policy)
    except StoreExportError as exc:
        fail(str(exc))
    except Exception as exc:  # an unreachable or un-migrated database: say which
        fail(f"--url {display_url(target)}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, out)
    err.print(
        f"wrote {table.num_rows} bookings ({table['policy'][0] if table.num_rows else policy}) "
        f"-> {out}",
        highlight=False,
    )


@stats_app.command("publish")
def publish_cmd(
    source: SourceArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")],
    policy: PolicyOpt = None,
    suppress_below: Annotated[
        int,
        typer.Option("--suppress-below", help="Hide counts 1..K-1, and whatever would reveal them."),
    ] = 11,
    privacy_budget: Annotated[
        float | None,
        typer.Option("--privacy-budget", help="Also publish noisy monthly counts (OpenDP) at "
                     "EPSILON a month, with a public ledger."),
    ] = None,
    dp_measures: Annotated[
        list[str] | None,
        typer.Option("--dp-measure", help="Measure released with noise (repeatable; default: "
                     "submissions, detainers)."),
    ] = None,
) -> None:
    """The public tables together — monthly per jurisdiction, per state-month, quarterly per
    state, national — with complementary suppression that holds across all of them
    (docs/statistics.md, "Disclosure control")."""
    import json

    from .disclosure import differencing_attack, protect_tables, published_tables, to_arrow

    if privacy_budget is not None and not 0 < privacy_budget <= 10:
        fail(f"--privacy-budget: expected a number in (0, 10], got {privacy_budget:g}")
    try:
        protected = protect_tables(published_tables(source, policy=policy),
                                   suppress_below=suppress_below)  # fmt: skip
    except (StatsInputError, VariantError) as exc:
        fail(str(exc))
    leaks = differencing_attack(protected)
    if not leaks.empty:  # fail closed: never publish tables that subtraction would open
        fail(f"disclosure check failed: {len(leaks)} hidden cell(s) recoverable", 1)
    out.mkdir(parents=True, exist_ok=True)
    for name, table in protected.tables.items():
        pacsv.write_csv(to_arrow(table), out / f"{name}.csv")
    (out / "disclosure.json").write_text(json.dumps(
        {"suppress_below": suppress_below, **protected.stats}, indent=1), encoding="utf-8")
    if privacy_budget is not None:
        from .privacy import DEFAULT_MEASURES, noisy_monthly

        try:
            release = noisy_monthly(protected_source_monthly(source, policy),
                                    epsilon=privacy_budget,
                                    measures=tuple(dp_measures or DEFAULT_MEASURES))  # fmt: skip
        except StatsInputError as exc:
            fail(str(exc))
        pacsv.write_csv(to_arrow(release.table), out / "monthly-noisy.csv")
        (out / "privacy-ledger.json").write_text(json.dumps(release.ledger, indent=1),
                                                 encoding="utf-8")  # fmt: skip
        m = release.measured
        err.print(f"noisy monthly counts at epsilon {privacy_budget:g} a month -> "
                  f"{out / 'monthly-noisy.csv'} ({m['cells']:,} cells, all published), ledger "
                  f"-> {out / 'privacy-ledger.json'}; measured (not published): mean |error| "
                  f"{m['mean_abs_error']:.2f}, 90 % within {m['p90_abs_error']:.0f}, "
                  f"{100 * m['share_within_5']:.1f} % within +-5", highlight=False)  # fmt: skip
    err.print(f"published {', '.join(protected.tables)} -> {out}: {protected.stats['cells']:,} "
              f"cells, {protected.stats['primary']:,} suppressed (1..{suppress_below - 1}), "
              f"{protected.stats['complementary']:,} complementary; differencing check passed",
              highlight=False)  # fmt: skip


def protected_source_monthly(source, policy):
    """The true monthly long table (the input of the noisy release)."""
    return monthly_statistics(load_outcomes(source, policy=policy)).to_pyarrow().to_pandas()
