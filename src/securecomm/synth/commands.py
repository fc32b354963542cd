"""``securecomm synth``: generate the synthetic nation; calibrate it against published figures."""

from __future__ import annotations

import time
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..cli.preamble import Typer, fail
from .params import ParamsError, load_params

synth_app = Typer(
    help="The calibrated synthetic nation: generate bookings, calibrate against published "
    "figures."
)
console = Console()


class _Bar:
    """A Rich progress bar fed by ``progress(stage, completed, total)`` callbacks."""

    def __init__(self, progress: Progress):
        self.progress, self.tasks = progress, {}

    def __call__(self, stage: str, completed: int, total: int) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(stage, total=max(total, 1))
        self.progress.update(self.tasks[stage], completed=completed, total=max(total, 1))


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=True)  # fmt: skip


@synth_app.command("generate")
def generate(
    scale: str = typer.Option("small", "--scale", help="small (demo default) | national"),
    seed: int = typer.Option(0, "--seed", min=0, help="random seed (same seed, same nation)"),
    out: Path = typer.Option(Path("nation.parquet"), "--out", help="Parquet file to write"),
    sample_fraction: float | None = typer.Option(
        None, "--sample-fraction", help="override the scale's share of the national flow"
    ),
    params_path: Path | None = typer.Option(None, "--params", help="nation_params.yaml"),
) -> None:
    """Write the synthetic nation (one row per booking) to Parquet."""
    from .nation import SCALES, NationSpec, write_nation

    if scale not in SCALES:
        fail(f"--scale: expected one of {', '.join(SCALES)}, got {scale!r}")
    try:
        overrides = {} if sample_fraction is None else {"sample_fraction": sample_fraction}
        spec = NationSpec.for_scale(scale, seed, params_path=str(params_path)
                                    if params_path else None, **overrides)  # fmt: skip
        params = load_params(params_path)
    except (ValueError, ParamsError) as exc:
        fail(str(exc))
    started = time.perf_counter()
    with _progress() as bar:
        path = write_nation(spec, out, _Bar(bar), params=params)
    rows = pq.ParquetFile(path).metadata.num_rows
    matched = pc.sum(pq.read_table(path, columns=["ident_match"])["ident_match"]).as_py() or 0
    console.print(
        f"wrote {rows:,} bookings ({matched:,} IDENT matches), {spec.start}..{spec.end}, "
        f"scale {spec.scale}, sample fraction {spec.sample_fraction:g}, seed {seed} -> {path} "
        f"in {time.perf_counter() - started:.1f} s", highlight=False, soft_wrap=True,
    )


@synth_app.command("calibrate")
def calibrate_command(
    sample_fraction: float = typer.Option(0.01, "--sample-fraction",
                                          help="share of the national flow to simulate"),
    seed: int = typer.Option(0, "--seed", min=0, help="random seed"),
    markdown: Path | None = typer.Option(None, "--markdown", help="also write a markdown table"),
    params_path: Path | None = typer.Option(None, "--params", help="nation_params.yaml"),
) -> None:
    """Compare the nation (Oct 2008 - Mar 2011, morton-2011) with published rates and shares.

    Exits 1 when a row is outside its tolerance."""
    from .calibrate import calibrate

    if not 0 < sample_fraction <= 1:
        fail(f"--sample-fraction: expected a number in (0, 1], got {sample_fraction}")
    try:
        params = load_params(params_path)
    except ParamsError as exc:
        fail(str(exc))
    with _progress() as bar:
        report = calibrate(sample_fraction, seed, params=params, progress=_Bar(bar))
    table = Table(title=f"Calibration: {report.start}..{report.end} under morton-2011, "
                        f"{report.bookings:,} bookings (fraction {sample_fraction:g}, seed {seed})")
    for col in ("figure", "published", "simulated", "tolerance", "pass", "source"):
        table.add_column(col, overflow="fold")
    for r in report.rows:
        t = r.target
        table.add_row(t.label, f"{100 * t.value:.2f}%", f"{100 * r.simulated:.2f}% "
                      f"({r.numerator:,}/{r.denominator:,})", f"+-{100 * t.tolerance:.2f}",
                      "[green]pass[/green]" if r.passed else "[red]FAIL[/red]",
                      t.short_source)  # fmt: skip
    console.print(table)
    if markdown is not None:
        markdown.parent.mkdir(parents=True, exist_ok=True)
        from securecomm.foia.calibration import keep_section  # its real-records section stays

        markdown.write_text(keep_section(markdown, report.to_markdown()), encoding="utf-8")
        console.print(f"wrote {markdown}", highlight=False)
    console.print("every row within tolerance" if report.passed else "[red]calibration FAILED[/red]")
    if not report.passed:
        raise typer.Exit(1)


@synth_app.command("arrests")
def arrests_command(
    scale: str = typer.Option("small", "--scale", help="small (1 arrest in 5) | national (all)"),
    seed: int = typer.Option(0, "--seed", min=0, help="random seed (the nation's jurisdictions)"),
    inject: list[str] = typer.Option(
        [], "--inject", help="ORI:POINTS — a pretext effect after activation (repeatable)"
    ),
    rho: float | None = typer.Option(None, "--rho", help="AR(1) month-to-month correlation"),
    out: Path = typer.Option(Path("arrests.parquet"), "--out", help="Arrest counts v1 file"),
    activations: Path = typer.Option(Path("activations.csv"), "--activations",
                                     help="activations table to write (ori, activated_on)"),
    truth: Path | None = typer.Option(None, "--truth", help="also write the injected effects"),
) -> None:
    """All local arrests per jurisdiction, month, ethnicity and offense class, before and after
    activation (the counterfactual the bias monitor needs; docs/nation.md)."""
    import pyarrow.csv as pacsv

    from .arrests import ARREST_SCALES, ArrestSpec, generate_arrests, parse_inject, write_arrests

    if scale not in ARREST_SCALES:
        fail(f"--scale: expected one of {', '.join(ARREST_SCALES)}, got {scale!r}")
    try:
        spec = ArrestSpec(seed=seed, sample_fraction=ARREST_SCALES[scale],
                          inject=parse_inject(inject), rho=rho)  # fmt: skip
        started = time.perf_counter()
        result = generate_arrests(spec)
    except (ValueError, ParamsError) as exc:
        fail(str(exc))
    write_arrests(result, out, activations)
    if truth is not None:
        pacsv.write_csv(result.truth, truth)
    total = pc.sum(result.arrests["arrests"]).as_py() or 0
    console.print(
        f"wrote {total:,} arrests in {result.arrests.num_rows:,} cells of "
        f"{result.activations.num_rows:,} jurisdictions -> {out}, activations -> {activations}; "
        f"{len(spec.inject)} injected effect(s); {time.perf_counter() - started:.1f} s",
        highlight=False, soft_wrap=True,
    )
