"""HTML and CSV for the oversight reports (one template, autoescaped; a CSV per table).

A suppressed count is ``None`` in the data, an empty cell in the CSV and "<=10" on the page.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from .. import __version__
from .params import SMALL_CELL_MAX

__all__ = ["Table", "write_adherence", "write_findings", "write_report"]


class Table(dict):
    """caption, columns, rows, counts (columns holding counts), text columns, note, csv name."""


def _env() -> Environment:
    return Environment(
        loader=PackageLoader("securecomm.oversight", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _csv(path: Path, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: "" if row.get(c) is None else row.get(c) for c in columns})


def write_report(
    out_dir: Path,
    stem: str,
    *,
    title: str,
    subtitle: str,
    tables: Sequence[Table],
    facts: Sequence[tuple[str, Any]] = (),
    sources: Sequence[tuple[str, str]] = (),
) -> dict[str, Path]:
    """``stem.html`` and ``stem-<table>.csv`` per table; returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for t in tables:
        path = out_dir / f"{stem}-{t['csv']}.csv"
        _csv(path, t["columns"], t["rows"])
        written[t["csv"]] = path
    html = _env().get_template("report.html.j2").render(
        title=title, subtitle=subtitle, tables=tables, facts=list(facts), sources=list(sources),
        small=SMALL_CELL_MAX.value, generated=__version__,
    )  # fmt: skip
    page = out_dir / f"{stem}.html"
    page.write_text(html, encoding="utf-8")
    written["html"] = page
    return written


def _table(caption: str, rows: list[dict[str, Any]], columns: Sequence[str], *, csv_name: str,
           text: Sequence[str] = (), note: str | None = None) -> Table:  # fmt: skip
    counts = [c for c in columns if c not in text]
    return Table(caption=caption, rows=rows, columns=list(columns), counts=counts,
                 text=list(text), note=note, csv=csv_name)  # fmt: skip


def write_adherence(report: Any, out_dir: Path) -> dict[str, Path]:
    """The monthly oversight report (already protected by the caller for publication)."""
    officer_cols = ["field_office", "officer", "decisions", "accepted", "overrides", "overrides_up",
                    "overrides_down", "safeguard_overrides", "supervisor_approved",
                    "supervisor_denied", "supervisor_pending", "median_hours_to_decision"]  # fmt: skip
    office_cols = [c for c in officer_cols if c != "officer"]
    juris_cols = ["ori", "name", "state", "field_office", "detainers_lodged", "held_past_limit",
                  "lifted_us_citizen"]  # fmt: skip
    text = ("field_office", "officer", "ori", "name", "state")
    tables = [
        _table("Per field office: officer decisions, overrides and supervisor review",
               report.field_offices, office_cols, csv_name="field-offices", text=text,
               note="Overrides up: to a more severe action than recommended; down: less severe. "
               "A safeguard override is one the field office sent to a supervisor."),
        _table("Per officer", report.officers, officer_cols, csv_name="officers", text=text),
        _table("Per jurisdiction: detainers, holds past the limit, US citizens",
               report.jurisdictions, juris_cols, csv_name="jurisdictions", text=text),
    ]  # fmt: skip
    return write_report(
        out_dir, f"oversight-{report.month}", title=f"Oversight report, {report.month}",
        subtitle="Adherence to the enforcement priorities and detainer limits (HSAC Task Force "
        "report II rec. 3, IV rec. 5)",
        tables=tables, sources=sorted(report.sources.items()),
    )  # fmt: skip


def write_findings(report: Any, out_dir: Path) -> dict[str, Path]:
    """The panel's findings report: the draw's public record, a summary, per-case findings."""
    d = report.draw
    q_cols = [f"q_{item['id']}" for item in d["checklist"]]
    columns = ["position", "pseudonym", "stratum", "reviewer", "finding", *q_cols, "note",
               "ice_response", "corrective_action"]  # fmt: skip
    rows = [{c: r.get(c) for c in columns} for r in report.rows]
    summary = [{"measure": k, "value": v} for k, v in report.summary.items()]
    tables = [
        _table("Summary", summary, ["measure", "value"], csv_name="summary", text=("measure",)),
        _table("Findings per sampled case (pseudonyms: no case is named)", rows, columns,
               csv_name="cases", text=[c for c in columns if c != "position"]),
        _table("Review checklist", d["checklist"], ["id", "question", "source"],
               csv_name="checklist", text=("id", "question", "source")),
    ]  # fmt: skip
    facts = [
        ("period", d["period"]), ("frame SHA-256", d["frame_sha256"]),
        ("frame cases", d["frame_cases"]),
        ("audit tree head at publication", f"size {d['tree_size']}, root {d['root_hash']}"),
        ("frame published", d["published_at"]), ("seed", d["seed"]), ("sample size", d["size"]),
        ("parameters", json.dumps(d["parameters"], sort_keys=True)),
        ("sample SHA-256", d["sample_sha256"]),
        ("drawn", d["drawn_at"]),
    ]  # fmt: skip
    return write_report(
        out_dir, f"panel-findings-draw-{d['draw_id']}",
        title=f"Independent panel findings, {d['period']} (draw #{d['draw_id']})",
        subtitle="A random, reproducible sample of decided cases reviewed by the independent "
        "panel; anyone can re-draw the sample from the published frame and seed "
        "(`securecomm panel verify`).",
        tables=tables, facts=facts, sources=[("panel", d["source"])],
    )  # fmt: skip
