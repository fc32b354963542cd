"""``securecomm foia``: import the public ICE releases, report the measures, print the summary.

Bad input exits with code 2 and one line on stderr naming the argument or file; no traceback.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ..cli.preamble import Typer, err, fail
from . import sources as S
from .reader import FoiaInputError

foia_app = Typer(help="Real ICE records released under FOIA: import, Task Force measures, summary.")
_fail = fail  # one line on stderr, exit status 2 (cli.preamble)


@foia_app.command("import")
def import_command(
    source: Annotated[str, typer.Argument(help=f"all | {' | '.join(S.SOURCES)}")],
    path: Annotated[
        Path,
        typer.Argument(
            help="The release folder (for 'all': the folder holding the four release folders)."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder for the Parquet tables.")],
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Also write the measures (CSV + index.html) here."),
    ] = None,
) -> None:
    """Import a release (or all four) into Parquet tables (docs/formats.md, FOIA tables)."""
    from .importer import import_all, import_source, write

    if source not in (*S.SOURCES, "all"):
        _fail(f"SOURCE: unknown release {source!r}; one of all, {', '.join(S.SOURCES)}")
    if report is not None and source != "all":
        _fail("--report: needs SOURCE all (the measures combine the releases)")
    try:
        if source == "all":
            imported = import_all(path)
        else:
            imported = import_source(source, path, crosswalks=path.parent / "crosswalks")
        manifest = write(imported, out)
    except FoiaInputError as exc:
        _fail(str(exc))
    except OSError as exc:  # unwritable output: name the path, not a traceback
        _fail(f"--out: cannot write {exc.filename or out}: {exc.strerror}")
    for name, rows in manifest["tables"].items():
        err.print(f"{name}: {rows:,} rows", highlight=False, markup=False)
    rejects = imported.rejects
    err.print(
        f"set aside: {len(rejects):,} row(s) (rejects.parquet)", highlight=False, markup=False
    )
    for r in rejects[:20]:  # line and reason only: the raw line stays in rejects.parquet
        err.print(f"  {r['source_file']}:{r['source_line']}: {r['reason']}", highlight=False,
                  markup=False)  # fmt: skip
    err.print(f"wrote {out}", highlight=False, markup=False)
    if report is not None:
        from .report import write_report

        try:
            paths = write_report(imported.tables, report, manifest)
        except (FoiaInputError, OSError) as exc:
            _fail(
                str(exc)
                if isinstance(exc, FoiaInputError)
                else f"--report: cannot write {exc.filename or report}: {exc.strerror}"
            )
        err.print(f"wrote {len(paths)} files to {report} (open {report / 'index.html'})",
                  highlight=False, markup=False)  # fmt: skip


@foia_app.command("report")
def report_command(
    directory: Annotated[Path, typer.Argument(help="Folder written by `foia import`.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Report folder.")] = Path("out/foia"),
) -> None:
    """The Task Force's measures on the imported records: CSV files and index.html."""
    from .report import load_tables, write_report

    try:
        tables = load_tables(directory)
    except FoiaInputError as exc:
        _fail(str(exc))
    manifest_path = directory / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else None
    try:
        paths = write_report(tables, out, manifest)
    except (FoiaInputError, OSError) as exc:
        _fail(
            str(exc)
            if isinstance(exc, FoiaInputError)
            else f"--out: cannot write {exc.filename or out}: {exc.strerror}"
        )
    err.print(f"wrote {len(paths)} files to {out} (open {out / 'index.html'})", highlight=False,
              markup=False)  # fmt: skip


class Format(StrEnum):
    json = "json"


@foia_app.command("summary")
def summary_command(
    path: Annotated[
        Path,
        typer.Argument(
            help="The folder holding the release folders, or a folder written by `foia import`."
        ),
    ],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.json,
) -> None:
    """The headline figures as one JSON object (null where a release does not report a field)."""
    from .importer import import_all
    from .report import load_tables
    from .summary import summary

    try:
        if (path / "seattle_arrests.parquet").is_file():
            tables = load_tables(path)
        else:
            tables = import_all(path, ("uwchr-seattle-aor", "npr-detainers-lifted")).tables
    except FoiaInputError as exc:
        _fail(str(exc))
    sys.stdout.write(json.dumps(summary(tables), indent=2) + "\n")


@foia_app.command("calibrate")
def calibrate_command(
    path: Annotated[
        Path,
        typer.Argument(
            help="The folder holding the release folders, or a folder written by `foia import`."
        ),
    ],
    markdown: Annotated[
        Path, typer.Option("--markdown", help="Markdown file whose FOIA section is (re)written.")
    ] = Path("docs/calibration.md"),
    sample_fraction: Annotated[float, typer.Option(min=0.0001, max=1.0)] = 0.01,
    seed: int = 0,
) -> None:
    """The synthetic nation beside the real records where the measures overlap."""
    from .calibration import real_counts, section, synthetic_counts, write_section
    from .importer import import_all
    from .report import load_tables

    try:
        if (path / "seattle_arrests.parquet").is_file():
            tables = load_tables(path)
        else:
            tables = import_all(path).tables
    except FoiaInputError as exc:
        _fail(str(exc))
    synth, meta = synthetic_counts(sample_fraction, seed)
    text = section(synth, meta, real_counts(tables))
    write_section(markdown, text)
    sys.stdout.write(text + "\n")
