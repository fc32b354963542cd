"""The importers on the real releases, checked against independent reads of the raw files
(the csv module over the decompressed text), never against hard-coded figures."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
from collections import Counter, defaultdict
from pathlib import Path

import pyarrow.compute as pc
import pytest
from typer.testing import CliRunner

from securecomm.cli import app
from securecomm.foia import sources as S

runner = CliRunner()


def raw_rows(path: Path, delimiter: str = "|") -> tuple[list[str], list[tuple[int, list[str]]]]:
    """(header, [(line number, fields)]) with a plain scan: the header is the first line whose
    first cell is not a title (it has at least two non-empty cells)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        lines = list(csv.reader(fh, delimiter=delimiter))
    h = next(i for i, r in enumerate(lines) if sum(bool(c) for c in r) >= 2)
    return lines[h], [(i + 1, r) for i, r in enumerate(lines) if i > h]


def fy(text: str) -> int:
    m, _d, y = (int(x) for x in text.split("/"))
    return y + (1 if m >= 10 else 0)


def test_every_raw_row_is_imported_and_none_set_aside(real, imported):
    assert imported.rejects == []
    for f in imported.files:
        release, name = f["file"].split("/")
        delim = "|" if release == "uwchr-seattle-aor" else ","
        _, rows = raw_rows(real / release / name, delim)
        assert f["rows"] == len(rows), f["file"]


def test_source_file_and_line_point_at_the_raw_row(real, tables):
    _, rows = raw_rows(real / "uwchr-seattle-aor" / "arrests.csv.gz")
    by_line = dict(rows)
    t = tables["seattle_arrests"]
    for i in (0, 1234, t.num_rows - 1):
        row = t.slice(i, 1).to_pylist()[0]
        raw = by_line[row["source_line"]]
        assert row["source_file"] == "uwchr-seattle-aor/arrests.csv.gz"
        assert raw[6] == row["arrest_method"]
        m, d, y = (int(x) for x in raw[0].split("/"))
        assert row["arrest_date"] == dt.date(y, m, d)


def test_redactions_are_a_status_never_a_value(tables):
    for name in ("seattle_arrests", "seattle_cap_encounters", "seattle_removals"):
        t = tables[name]
        assert pc.all(pc.equal(t["date_of_birth_status"], S.REDACTED)).as_py()
        assert t["date_of_birth"].null_count == t.num_rows
    ddp = tables["ddp_detainers_wa"]
    assert set(ddp["detainer__alien_file_number_status"].to_pylist()) == {S.REDACTED}
    for col in ddp.column_names:
        if col.endswith("_status") or ddp[col].type != "string":
            continue
        values = [v for v in ddp[col].to_pylist() if v]
        assert not any(S.REDACTION.match(v) for v in values), col


def test_conviction_not_reported_before_fy2015_and_blank_after(tables):
    rows = (
        tables["seattle_arrests"]
        .select(["fiscal_year", "most_serious_conviction", "most_serious_conviction_status"])
        .to_pylist()
    )
    early = [r for r in rows if r["fiscal_year"] < 2015]
    late = [r for r in rows if r["fiscal_year"] >= 2015]
    assert early and all(r["most_serious_conviction_status"] == S.NOT_REPORTED for r in early)
    assert all(r["most_serious_conviction"] is None for r in early)
    assert {r["most_serious_conviction_status"] for r in late} == {S.VALUE, S.BLANK}


def test_ddp_join_repeats_are_flagged_not_dropped(real, tables):
    t = tables["ddp_detainers_wa"]
    _, rows = raw_rows(real / "ddp-detainers-wa" / "joined_df_wa.csv", ",")
    assert t.num_rows == len(rows)
    header, _ = raw_rows(real / "ddp-detainers-wa" / "joined_df_wa.csv", ",")
    cols = [i for i, h in enumerate(header) if h.endswith(".detainer") or h == "unique_identifier"]
    distinct = {tuple(r[i] for i in cols) for _, r in rows}
    assert t.num_rows - sum(bool(v) for v in t["likely_duplicate"].to_pylist()) == len(distinct)
    assert len(distinct) < t.num_rows
    from securecomm.foia.measures import ddp_detainers

    assert ddp_detainers(tables)["detainers"].sum() == len(distinct)


def _independent_summary(real: Path) -> dict:
    _, arrests = raw_rows(real / "uwchr-seattle-aor" / "arrests.csv.gz")
    by_fy, local, blank = Counter(), Counter(), Counter()
    for _, r in arrests:
        y = fy(r[0])
        by_fy[y] += 1
        local[y] += r[6] == "CAP Local Incarceration"
        blank[y] += r[7] == ""
    disp: dict[str, Counter] = defaultdict(Counter)
    for year in (2017, 2018):
        _, enc = raw_rows(real / "uwchr-seattle-aor" / f"CAP-FY{year}-encounters.csv.gz")
        for _, r in enc:
            if r[4]:
                disp[str(year)][r[4]] += 1
    lifts = Counter()
    with open(real / "npr-detainers-lifted" / "us-citizen-interviewed.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            d = dt.date.fromisoformat(r["date"][:10])
            lifts[d.year + (d.month >= 10)] += (
                r["lift_reason"] == "United States Citizen Interviewed"
            )
    return {
        "seattle_arrests_by_fiscal_year": {str(k): v for k, v in sorted(by_fy.items())},
        "seattle_cap_local_arrests_by_fiscal_year": {str(k): local[k] for k in sorted(by_fy)},
        "seattle_arrests_without_conviction_by_fiscal_year": {
            str(k): (blank[k] if k >= 2015 else None) for k in sorted(by_fy)
        },
        "seattle_cap_encounters_by_disposition": {k: dict(v) for k, v in disp.items()},
        "detainers_lifted_us_citizen_by_fiscal_year": {str(k): v for k, v in sorted(lifts.items())},
    }


def test_summary_json_matches_an_independent_count(real):
    result = runner.invoke(app, ["foia", "summary", str(real), "--format", "json"])
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)
    assert list(got) == [
        "seattle_arrests_by_fiscal_year",
        "seattle_cap_local_arrests_by_fiscal_year",
        "seattle_arrests_without_conviction_by_fiscal_year",
        "seattle_cap_encounters_by_disposition",
        "detainers_lifted_us_citizen_by_fiscal_year",
    ]
    assert got == _independent_summary(real)
    # before FY2015 the field was not released: null, not zero
    assert got["seattle_arrests_without_conviction_by_fiscal_year"]["2014"] is None
    assert got["seattle_arrests_without_conviction_by_fiscal_year"]["2015"] > 0


def test_summary_from_the_imported_folder_is_the_same(real, imported, tmp_path):
    from securecomm.foia.importer import write
    from securecomm.foia.summary import summary

    write(imported, tmp_path)
    result = runner.invoke(app, ["foia", "summary", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == summary(imported.tables)


@pytest.mark.parametrize(
    ("place", "state", "geoid", "aor"),
    [
        ("YAKIMA COUNTY JAIL", None, "53077", "SEA"),
        ("FRANKLIN CO. JAIL", None, "53021", "SEA"),
        ("WASHINGTON COUNTY JAIL", None, "41067", "SEA"),  # Oregon: the only one in the SEA AOR
        ("SEA CAP", None, None, None),
        ("WELD COUNTY JAIL", "COLORADO", "08123", "DEN"),
    ],
)
def test_places_from_the_county_crosswalk(tables, place, state, geoid, aor):
    from securecomm.foia.places import Locator

    loc = Locator(tables["crosswalk_county_aor"].to_pylist())
    got = loc.locate(place, state)
    assert (got[0], got[1]) == (geoid, aor)


def test_landmark_columns_agree_with_the_locator(tables):
    t = tables["seattle_arrests"].select(["landmark", "county_geoid", "aor", "place_match"])
    rows = t.to_pylist()
    placed = [r for r in rows if r["place_match"] == "county"]
    assert placed and all(r["aor"] == "SEA" and r["county_geoid"][:2] in ("53", "41", "02", "16")
                          for r in placed)  # fmt: skip
    assert all(r["county_geoid"] is None for r in rows if r["place_match"] == "none")


def test_removals_keep_their_convictions_in_every_year(real, tables):
    """The not-reported rule is for arrests and book-ins only: removals carry the field."""
    t = tables["seattle_removals"].select(["fiscal_year", "most_serious_conviction",
                                           "most_serious_conviction_status"]).to_pylist()  # fmt: skip
    raw = 0
    for name in ("other-removals.csv.gz", "expedited-removals.csv.gz"):
        _, rows = raw_rows(real / "uwchr-seattle-aor" / name)
        raw += sum(1 for _, r in rows if r[5] and fy(r[0]) < 2015)
    kept = sum(1 for r in t if r["fiscal_year"] < 2015 and r["most_serious_conviction"])
    assert kept == raw > 0
    assert not any(r["most_serious_conviction_status"] == S.NOT_REPORTED for r in t)
