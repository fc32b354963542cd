"""``securecomm monitor bias``: the bias and pretext monitor's command (a thin front over
``oversight.bias``; HSAC Task Force IV rec. 5)."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import pyarrow as pa
import pyarrow.csv as pacsv
import typer
from rich.console import Console
from rich.table import Table

from securecomm.cli.preamble import DATA, Typer, err, fail, rejected
from securecomm.synth.params import ParamsError

from .arrest_counts import ArrestInputError, read_activations, read_arrests

monitor_app = Typer(
    help="Monitors of HSAC Task Force IV rec. 5: racial profiling and pretextual arrests."
)


class Format(StrEnum):
    json = "json"
    csv = "csv"
    table = "table"


@monitor_app.command("bias")
def bias_cmd(
    arrests: Annotated[Path, typer.Argument(help="Arrest counts v1 (Parquet or CSV).")],
    activations: Annotated[
        Path, typer.Option("--activations", help="Activations table (ori, activated_on), CSV.")
    ],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.json,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write here, not stdout.")] = None,
    rejected_path: Annotated[
        Path | None, typer.Option("--rejected", help="Write rejected rows (line, field, reason).")
    ] = None,
    event_study_path: Annotated[
        Path | None,
        typer.Option("--event-study", help="Also write the national event study (JSON)."),
    ] = None,
    params_path: Annotated[
        Path | None, typer.Option("--params", help="Method parameters (bias_params.yaml).")
    ] = None,
) -> None:
    """Per jurisdiction: did the Hispanic share of minor-offense arrests rise after activation?

    One result per jurisdiction (ori, flagged, effect in points, p_value, q_value,
    minor_arrests_per_month, pretrend_p, comparison, status). Method: docs/statistics.md,
    "Bias monitor". Rejected rows are named on stderr (exit status 1); good rows are used.
    """
    from .bias import event_study, load_bias_params, monitor_bias, panel_from_counts, results_table

    try:
        params = load_bias_params(params_path)
        counts = read_arrests(arrests)
        acts = read_activations(activations)
        data = panel_from_counts(counts.table, acts.dates)
        results = monitor_bias(data, params)
    except (ArrestInputError, ParamsError) as exc:
        fail(str(exc))
    bad = [("ARRESTS", r) for r in counts.rejected] + [("--activations", r) for r in acts.rejected]
    for what, r in bad[:10]:
        rejected(f"{what} {r}")
    if len(bad) > 10:
        err.print(f"rejected: ... {len(bad) - 10} more", highlight=False)
    if data.skipped:
        err.print(f"note: {len(data.skipped)} jurisdiction(s) of ARRESTS have no activation row "
                  "and were left out", highlight=False)  # fmt: skip
    if rejected_path is not None:
        pacsv.write_csv(pa.table({
            "file": [w for w, _ in bad], "line": [r.line for _, r in bad],
            "field": [r.field for _, r in bad], "reason": [r.reason for _, r in bad],
        }), rejected_path)  # fmt: skip
    sink = out.open("w", encoding="utf-8") if out is not None else sys.stdout
    try:
        if fmt is Format.json:
            for r in results:
                sink.write(json.dumps(r.as_dict()) + "\n")
        elif fmt is Format.csv:
            buf = pa.BufferOutputStream()
            pacsv.write_csv(results_table(results), buf)
            sink.write(buf.getvalue().to_pybytes().decode("utf-8"))
        else:
            _print_table(results, Console(file=sink, soft_wrap=True, width=160))
    finally:
        if out is not None:
            sink.close()
    if event_study_path is not None:
        event_study_path.write_text(json.dumps(event_study(data), indent=1), encoding="utf-8")
    tested = sum(r.status == "tested" for r in results)
    err.print(f"{len(results)} jurisdictions, {tested} tested, "
              f"{sum(r.flagged for r in results)} flagged (q <= {params['fdr']:g})",
              highlight=False)  # fmt: skip
    if bad:
        raise typer.Exit(DATA)


def _print_table(results, console: Console) -> None:
    table = Table(title="Bias and pretext monitor (HSAC Task Force IV rec. 5): change in the "
                        "Hispanic share of minor-offense arrests after activation")  # fmt: skip
    for col in ("ori", "flagged", "effect (points)", "p", "q", "minor arrests/month",
                "pre-trend p", "status"):  # fmt: skip
        table.add_column(col, overflow="fold")

    def f(x, spec):
        return "" if x is None else format(x, spec)

    ordered = sorted(results, key=lambda r: (r.q_value is None, r.q_value or 0, r.ori))
    for r in ordered:
        table.add_row(r.ori, "yes" if r.flagged else "", f(r.effect, "+.1f"), f(r.p_value, ".2g"),
                      f(r.q_value, ".2g"), f(r.minor_arrests_per_month, ",.1f"),
                      f(r.pretrend_p, ".2f"), r.status)  # fmt: skip
    console.print(table)
