"""``securecomm foia import``: the releases into documented Parquet tables (docs/formats.md).

Per release folder, every file is read (``reader.read_file``) and the rows of the files of one
table are concatenated; the rows set aside go to ``rejects.parquet`` with their file, line and
reason. Convictions are classified (``charges``) and landmarks / facilities placed in a county
and ICE area of responsibility (``places``) where the crosswalk allows. ``manifest.json`` records
each file's SHA-256, row and reject counts, the redaction codes seen and the parameters used.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from . import places
from . import sources as S
from .charges import SEVERITY_BY_CODE, classify_text, classify_texts
from .reader import FoiaInputError, ReadResult, read_file

__all__ = ["FoiaInputError", "Imported", "import_all", "import_source", "load_release", "write"]

_ARROW = {"text": pa.string(), "category": pa.string(), "date": pa.date32(),
          "datetime": pa.timestamp("s"), "int": pa.int64(), "float": pa.float64()}  # fmt: skip

PROVENANCE = {
    "uwchr-seattle-aor": S.UWCHR,
    "npr-detainers-lifted": S.NPR,
    "ddp-detainers-wa": S.DDP,
    "crosswalks": S.CROSSWALK,
}


@dataclass
class Imported:
    """Tables of one or more releases, in memory."""

    tables: dict[str, pa.Table] = field(default_factory=dict)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)

    def merge(self, other: Imported) -> None:
        self.tables.update(other.tables)
        self.rejects += other.rejects
        self.files += other.files


def _specs(release: str) -> tuple[S.FileSpec, ...]:
    return {
        "uwchr-seattle-aor": S.SEATTLE,
        "npr-detainers-lifted": S.NPR_FILES,
        "ddp-detainers-wa": (S.DDP_SPEC,),
        "crosswalks": S.CROSSWALK_FILES,
    }[release]


def _table(results: list[ReadResult]) -> pa.Table:
    fields: list[pa.Field] = [
        pa.field("source_file", pa.string()),
        pa.field("source_line", pa.int32()),
    ]
    names = {"source_file", "source_line"}
    for r in results:
        for c in r.columns:
            if c.name not in names:
                names.add(c.name)
                fields += [
                    pa.field(c.name, _ARROW[c.kind]),
                    pa.field(f"{c.name}_status", pa.string()),
                ]
        for k in r.spec.constants:
            if k not in names:
                names.add(k)
                fields.append(pa.field(k, pa.string()))
    fields += [pa.field("fiscal_year", pa.int16()), pa.field("month", pa.string()),
               pa.field("identical_to_line", pa.int32()), pa.field("likely_duplicate", pa.bool_())]  # fmt: skip
    schema = pa.schema(fields)
    rows = [row for r in results for row in r.rows]
    return pa.Table.from_pylist(rows, schema=schema)


def load_release(release: str, path: Path) -> Imported:
    """Read every file of ``release`` from folder ``path`` (FoiaInputError for a bad file)."""
    if release not in S.SOURCES:
        raise FoiaInputError(f"SOURCE: unknown release {release!r}; one of {', '.join(S.SOURCES)}")
    if not path.is_dir():
        raise FoiaInputError(f"PATH: {path} is not a folder (expected the {release} release)")
    by_table: dict[str, list[ReadResult]] = defaultdict(list)
    out = Imported()
    for spec in _specs(release):
        result = read_file(path / spec.name, spec, release)
        by_table[spec.table].append(result)
        out.rejects += [{"release": release, **r} for r in result.rejects]
        out.files.append({
            "release": release, "file": result.source_file, "table": spec.table,
            "sha256": result.sha256, "lines": result.lines, "rows": len(result.rows),
            "rejects": len(result.rejects), "title": result.title,
            "identical_rows": sum(r["identical_to_line"] is not None for r in result.rows),
            "likely_duplicates": sum(bool(r["likely_duplicate"]) for r in result.rows),
            "redaction_codes": {k: dict(v) for k, v in result.redaction_codes.items() if v},
        })  # fmt: skip
    for name, results in by_table.items():
        out.tables[name] = _table(results)
    return out


# --------------------------------------------------------------------------- enrichment

MSC_COLUMNS = {  # table -> its conviction-text column
    "seattle_arrests": "most_serious_conviction",
    "seattle_bookins": "most_serious_conviction",
    "seattle_removals": "most_serious_conviction",
    "ddp_detainers_wa": "detainer__most_serious_conviction_charge",
}
PLACE_COLUMNS = {  # table -> (place column, state column or None: Seattle AOR)
    "seattle_arrests": ("landmark", None),
    "seattle_bookins": ("detention_facility", None),
    "seattle_cap_encounters": ("landmark", None),
    "seattle_cap_arrests": ("landmark", None),
    "npr_detainers_lifted": ("facility", "state"),
    "ddp_detainers_wa": ("detainer__detention_facility", "detainer__facility_state"),
}


def _append(table: pa.Table, name: str, values: list, typ: pa.DataType) -> pa.Table:
    if name in table.column_names:
        table = table.drop_columns([name])
    return table.append_column(pa.field(name, typ), pa.array(values, typ))


def enrich(imported: Imported) -> None:
    """Classification and place columns; the ``charges`` table of distinct conviction texts."""
    counts: dict[tuple[str, str], int] = Counter()
    for table, col in MSC_COLUMNS.items():
        if table not in imported.tables:
            continue
        t = imported.tables[table]
        texts = t[col].to_pylist()
        cls = [classify_text(x) if x else None for x in texts]
        for x in texts:
            if x:
                counts[(table, x)] += 1
        t = _append(t, "msc_ncic", [c and c["ncic"] for c in cls], pa.string())
        t = _append(
            t, "msc_charge_category", [c and c["charge_category"] for c in cls], pa.string()
        )
        t = _append(t, "msc_morton_level", [c and c["morton_level"] for c in cls], pa.int8())
        imported.tables[table] = t
    if counts:
        rows = []
        for table in MSC_COLUMNS:
            per = [(text, n) for (tb, text), n in counts.items() if tb == table]
            rows += [{"table": table, **r} for r in classify_texts(per)]
        imported.tables["charges"] = pa.Table.from_pylist(rows, schema=pa.schema([
            ("table", pa.string()), ("text", pa.string()), ("rows", pa.int64()),
            ("ncic", pa.string()), ("ncic_description", pa.string()), ("matched_by", pa.string()),
            ("severity", pa.string()), ("charge_category", pa.string()),
            ("categories", pa.string()), ("morton_level", pa.int8())]))  # fmt: skip
    counties = imported.tables.get("crosswalk_county_aor")
    if counties is None:
        return
    locator = places.Locator(counties.to_pylist())
    for table, (col, state_col) in PLACE_COLUMNS.items():
        if table not in imported.tables:
            continue
        t = imported.tables[table]
        states = t[state_col].to_pylist() if state_col else [None] * t.num_rows
        found = [locator.locate(p, s) for p, s in zip(t[col].to_pylist(), states, strict=True)]
        t = _append(t, "county_geoid", [f[0] for f in found], pa.string())
        t = _append(t, "aor", [f[1] for f in found], pa.string())
        t = _append(t, "place_match", [f[2] for f in found], pa.string())
        imported.tables[table] = t


# --------------------------------------------------------------------------- output

REJECTS_SCHEMA = pa.schema([("release", pa.string()), ("source_file", pa.string()),
                            ("source_line", pa.int32()), ("reason", pa.string()),
                            ("raw_line", pa.string())])  # fmt: skip


def write(imported: Imported, out: Path) -> dict[str, Any]:
    """Write the tables, ``rejects.parquet`` and ``manifest.json`` to ``out``."""
    if out.exists() and not out.is_dir():
        raise FoiaInputError(f"--out: {out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    for name, table in imported.tables.items():
        pq.write_table(table, out / f"{name}.parquet")
    pq.write_table(pa.Table.from_pylist(imported.rejects, schema=REJECTS_SCHEMA),
                   out / "rejects.parquet")  # fmt: skip
    manifest = {
        "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "releases": {r: PROVENANCE[r] for r in sorted({f["release"] for f in imported.files})},
        "files": imported.files,
        "tables": {n: t.num_rows for n, t in sorted(imported.tables.items())},
        "rejects": len(imported.rejects),
        "parameters": [
            {"name": p.name, "value": p.value, "citation": p.citation, "rationale": p.rationale}
            for p in (*S.PARAMETERS, SEVERITY_BY_CODE)
        ],
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    return manifest


def import_source(release: str, path: Path, crosswalks: Path | None = None) -> Imported:
    """One release (and the county crosswalk, when ``crosswalks`` is given, for places)."""
    imported = load_release(release, path)
    if crosswalks is not None and release != "crosswalks" and crosswalks.is_dir():
        cw = load_release("crosswalks", crosswalks)
        imported.tables.setdefault("crosswalk_county_aor", cw.tables["crosswalk_county_aor"])
    enrich(imported)
    if release != "crosswalks" and crosswalks is not None:
        imported.tables.pop("crosswalk_county_aor", None)  # written by its own release
    return imported


def import_all(root: Path, releases: Iterable[str] = S.SOURCES) -> Imported:
    """Every release from ``root`` (the folder holding the four release folders)."""
    if not root.is_dir():
        raise FoiaInputError(f"PATH: {root} is not a folder (expected the four release folders)")
    imported = Imported()
    for release in releases:
        imported.merge(load_release(release, root / release))
    enrich(imported)
    return imported
