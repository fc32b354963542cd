"""``securecomm foia report DIR --out out/foia``: the measures as CSV files and one HTML page.

The page extends the statistics' base template and inlines the same offline Vega bundle
(``stats.render.vega_javascript``): no CDN. Charts put fiscal years on the x axis, name their
unit on the y axis and format counts with thousands separators.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined, select_autoescape

from securecomm.stats.render import vega_javascript

from . import sources as S
from .importer import PROVENANCE
from .measures import MEASURES, compute
from .reader import FoiaInputError
from .summary import summary

NEEDED_TABLES = (
    "seattle_arrests",
    "seattle_cap_encounters",
    "npr_detainers_lifted",
    "ddp_detainers_wa",
    "charges",
)

GAPS = (
    {"question": "Was anyone held past the 48-hour detainer limit? (8 CFR 287.7(d); TF III rec. 5)",
     "why": "The Seattle and NPR releases carry dates only, no times of day, and no time at which "
            "the person would otherwise have been released. The DDP detainer file has ICE "
            "apprehension and book-in times but not the local release time either.",
     "needed": "Per detainer: the time the local agency would have released the person, the "
               "time ICE assumed custody or the hold ended (timestamps with time zone), and "
               "weekend/holiday days excluded — what the detainer clock records."},
    {"question": "Are Latinos or other groups over-represented? (TF I rec. 2-3, racial profiling)",
     "why": "The Seattle, CAP and NPR releases carry no ethnicity or race; country of "
            "citizenship is not ethnicity. The DDP file has an ethnicity field for ICE detention "
            "only (Hispanic / not / unknown), for 44 people.",
     "needed": "Ethnicity and race as recorded at the local booking, for every submission, "
               "with the arresting agency and the charge, so arrest patterns can be compared "
               "with the local population (the bias monitor's inputs)."},
    {"question": "Were people arrested on pretext to be checked? (TF I rec. 2)",
     "why": "No arrest charge, arresting agency or local disposition: only ICE's side.",
     "needed": "The local arrest charge and its disposition (dismissed, acquitted, convicted) "
               "linked to each fingerprint submission."},
    {"question": "How many matches led to no action, and why? (TF II rec. 4)",
     "why": "Encounter dispositions exist for FY2017-FY2018 only and 'Other' covers 16-19%.",
     "needed": "The decision and its decisive rule per match, with citation (Decision v1)."},
    {"question": "Conviction history before FY2015 (TF II rec. 1-2)",
     "why": "ICE did not release Most Serious Conviction for Seattle arrests before FY2015.",
     "needed": "The Morton level and the conviction record at decision time, for every arrest."},
)  # fmt: skip


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(
        loader=ChoiceLoader(
            [
                PackageLoader("securecomm.foia", "templates"),
                PackageLoader("securecomm.stats", "templates"),
            ]
        ),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
    )


def load_tables(directory: Path) -> dict[str, pa.Table]:
    if not directory.is_dir():
        raise FoiaInputError(
            f"DIR: {directory} is not a folder (run `securecomm foia import` first)"
        )
    missing = [n for n in NEEDED_TABLES if not (directory / f"{n}.parquet").is_file()]
    if missing:
        raise FoiaInputError(
            f"DIR: {directory} lacks {', '.join(f'{m}.parquet' for m in missing)} "
            "(run `securecomm foia import all <releases> --out DIR`)"
        )
    return {p.stem: pq.read_table(p) for p in sorted(directory.glob("*.parquet"))}


def _fmt(v: Any, column: str) -> str:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return "not reported" if "conviction" in column else "–"
    if "share" in column:
        return f"{float(v) * 100:.1f}%"
    if isinstance(v, int | float) and column != "fiscal_year" and not isinstance(v, bool):
        return f"{int(v):,}" if float(v).is_integer() else f"{v:,.2f}"
    return str(v)


def _section(name: str, frame: pd.DataFrame, csv: str, limit: int = 60, title: str = "") -> dict:
    m = MEASURES.get(name)
    rows = [[(f"FY{v}", True) if c == "fiscal_year" else (_fmt(v, c), isinstance(v, str))
             for c, v in zip(frame.columns, r, strict=True)]
            for r in frame.itertuples(index=False)]  # fmt: skip
    return {"title": title or (m.title if m else name), "citation": m.citation if m else "",
            "note": m.note if m else "", "csv": csv, "header": list(frame.columns),
            "rows": rows[:limit], "truncated": len(rows) > limit, "total": len(rows)}  # fmt: skip


def _charts(res: dict[str, pd.DataFrame]) -> list[dict[str, Any]]:
    fy_axis = alt.X("fiscal_year:O", title="fiscal year (Oct 1 start)")
    count = ",d"
    arrests = res["arrests_by_method_fy"].melt(
        id_vars="fiscal_year", value_vars=["jail_program", "at_large", "other"],
        var_name="method group", value_name="arrests")  # fmt: skip
    charts = [
        ("Seattle AOR arrests by method group (TF I)",
         alt.Chart(arrests).mark_bar().encode(
             x=fy_axis, y=alt.Y("arrests:Q", title="arrests", axis=alt.Axis(format=count)),
             color=alt.Color("method group:N"), tooltip=["fiscal_year", "method group",
                                                         alt.Tooltip("arrests:Q", format=count)])),
        ("Jail-program arrests with no conviction recorded, share (FY2015 onwards; TF II rec. 1-2)",
         alt.Chart(
                res["jail_arrests_without_conviction"]
                .dropna(subset=["no_conviction_share"])[["fiscal_year", "no_conviction_share"]]
                .astype({"fiscal_year": int, "no_conviction_share": float})
            )
            .mark_bar().encode(x=fy_axis, y=alt.Y("no_conviction_share:Q", title="share of jail-program arrests",
                                               axis=alt.Axis(format="%"), scale=alt.Scale(zero=True)),
                            tooltip=["fiscal_year", alt.Tooltip("no_conviction_share:Q", format=".1%")])),
        ("Seattle AOR arrests per month by method group",
         alt.Chart(res["arrests_by_method"]).mark_line().encode(
             x=alt.X("month:T", title="month"),
             y=alt.Y("arrests:Q", title="arrests per month", axis=alt.Axis(format=count)),
             color="method_group:N")),
        ("CAP encounters by processing disposition (TF I rec. 4)",
         alt.Chart(res["cap_encounter_outcomes"]).mark_bar().encode(
             y=alt.Y("processing_disposition:N", title="processing disposition", sort="-x"),
             x=alt.X("encounters:Q", title="encounters", axis=alt.Axis(format=count)),
             color=alt.Color("fiscal_year:N", title="fiscal year"), yOffset="fiscal_year:N")),
        ("Detainers lifted because the person was a US citizen (NPR; TF III rec. 5)",
         alt.Chart(res["usc_share_of_lifts"]).mark_bar().encode(
             x=fy_axis, y=alt.Y("lifted_us_citizen:Q", title="detainers lifted (US citizen)",
                                axis=alt.Axis(format=count)))),
    ]  # fmt: skip
    return [{"title": t, "spec": c.properties(width=640).to_dict()} for t, c in charts]


def write_report(
    tables: dict[str, pa.Table], out: Path, manifest: dict | None = None
) -> list[Path]:
    """CSV per measure, ``summary.json`` and ``index.html`` in ``out``; returns the paths."""
    if out.exists() and not out.is_dir():
        raise FoiaInputError(f"--out: {out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    res = compute(tables)
    written = []
    for name, frame in res.items():
        path = out / f"{name}.csv"
        frame.to_csv(path, index=False)
        written.append(path)
    (out / "summary.json").write_text(json.dumps(summary(tables), indent=2) + "\n")
    written.append(out / "summary.json")
    fy = res["arrests_by_method_fy"]
    nc = res["jail_arrests_without_conviction"].set_index("fiscal_year")
    local = (tables["seattle_arrests"].select(["fiscal_year", "arrest_method"]).to_pandas()
             .query("arrest_method == @S.CAP_LOCAL").groupby("fiscal_year").size())  # fmt: skip
    headline = [{
        "fiscal_year": int(r.fiscal_year), "total": f"{int(r.total):,}",
        "jail_program": f"{int(r.jail_program):,}", "at_large": f"{int(r.at_large):,}",
        "cap_local": f"{int(local.get(r.fiscal_year, 0)):,}",
        "jail_program_share": _fmt(r.jail_program_share, "share"),
        "no_conviction": (
            "not reported" if pd.isna(nc.loc[r.fiscal_year, "no_conviction_share"])
            else f"{int(nc.loc[r.fiscal_year, 'no_conviction']):,} "
                 f"({_fmt(nc.loc[r.fiscal_year, 'no_conviction_share'], 'share')})"),
    } for r in fy.itertuples()]  # fmt: skip
    sections = [
        _section("arrests_by_method_fy", fy, "arrests_by_method_fy.csv"),
        _section("jail_arrests_without_conviction", res["jail_arrests_without_conviction"],
                 "jail_arrests_without_conviction.csv"),
        _section("cap_encounter_outcomes", res["cap_encounter_outcomes"], "cap_encounter_outcomes.csv"),
        _section("foreign_born_usc", res["foreign_born_usc"], "foreign_born_usc.csv"),
        _section("usc_share_of_lifts", res["usc_share_of_lifts"], "usc_share_of_lifts.csv"),
        _section("usc_detainers_lifted",
                 res["usc_detainers_lifted"].pivot_table(index="state", columns="fiscal_year",
                                                         values="lifted_us_citizen", aggfunc="sum",
                                                         fill_value=0)
                 .rename(columns=lambda c: f"FY{c}").reset_index(),
                 "usc_detainers_lifted.csv"),
        _section("ddp_detainers", res["ddp_detainers"], "ddp_detainers.csv"),
        _section("charge_classification", res["charge_classification"], "charge_classification.csv"),
        _section("charge_classification", res["unclassified_charges"], "unclassified_charges.csv",
                 limit=20, title="Top unclassified conviction texts"),
        _section("charge_classification", res["jail_arrests_by_level"], "jail_arrests_by_level.csv",
                 title="Jail-program arrests by the Morton level of the most serious conviction "
                       "(severity estimated: foia.felony_ncic)"),
    ]  # fmt: skip
    files = (manifest or {}).get("files", [])
    html = _env().get_template("foia.html.j2").render(
        title="Secure Communities on real ICE records (FOIA releases)",
        subtitle="Seattle area of responsibility 2012-2019 (UWCHR), detainers lifted 2007-2015 (NPR), "
                 "Washington detainers 2023-2025 (Deportation Data Project)",
        charts=(charts := _charts(res)), vega_js=vega_javascript() if charts else "",
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        headline=headline, sections=sections, gaps=GAPS, files=files, releases=PROVENANCE,
        jail_methods=", ".join(S.JAIL_PROGRAM_METHODS.value),
        at_large_methods=", ".join(S.AT_LARGE_METHODS.value), msc_from=S.MSC_REPORTED_FROM_FY.value,
    )  # fmt: skip
    (out / "index.html").write_text(html, encoding="utf-8")
    written.append(out / "index.html")
    return written
