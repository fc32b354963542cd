"""Conviction texts go through the policy engine's classifier; the report publishes the
measures (CSV + offline HTML) and says what the public data cannot answer."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from securecomm.cli import app
from securecomm.foia import sources as S
from securecomm.foia.charges import classify_text, ncic_for_text
from securecomm.law.flatten import fold_literal
from securecomm.law.offenses import classify_offense
from securecomm.law.packs import get_pack
from securecomm.stats.categories import charge_category_of

runner = CliRunner()


@pytest.mark.parametrize(
    ("text", "ncic", "category", "level"),
    [
        ("Driving Under Influence Liquor", "5404", "serious_traffic", 3),
        ("Traffic Offense", "5499", "minor_traffic", None),  # Morton: minor traffic has no level
        ("Aggravated Assault - Family-Strongarm", "1303", "felony", 2),
        ("Burglary - Forced Entry-Residence", "2202", "felony", 2),
        ("Hit and Run", "5401", "serious_traffic", 3),
        ("Disorderly Conduct", "5311", "other_minor_misdemeanor", 3),
    ],
)
def test_texts_classified_by_the_engines_classifier(text, ncic, category, level):
    got = classify_text(text)
    assert (got["ncic"], got["charge_category"], got["morton_level"]) == (ncic, category, level)
    offense = {"ncic": ncic, "literal": fold_literal(text), "severity": got["severity"],
               "injury": False, "domestic_violence": False}  # fmt: skip
    assert got["charge_category"] == charge_category_of([offense])
    params = {k: p.value for k, p in get_pack("tfsc-2011").parameters.items()}
    full = {**offense, "disposition": "convicted", "sentence_days": None, "suspended": False,
            "aggravated_felony": None, "gang_element": False, "counsel": None,
            "convicted_on": None, "incident_key": "x", "from_current_charge": False}  # fmt: skip
    assert got["categories"] == ";".join(
        sorted({f["category"] for f in classify_offense(full, params)})
    )


def test_unknown_text_is_unclassified_not_guessed():
    assert ncic_for_text("Jaywalking on the moon")[0] is None
    assert classify_text("Jaywalking on the moon")["charge_category"] is None


def test_reviewed_table_codes_exist_in_the_ncic_table():
    from importlib import resources

    from securecomm.law.ncic import NCIC_OFFENSES

    with resources.files("securecomm.foia").joinpath("data/msc_ncic.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert rows and all(r["ncic"] in NCIC_OFFENSES and r["note"] for r in rows)


def test_share_classified_and_top_unclassified(tables):
    from securecomm.foia.measures import charge_classification

    share, unclassified = charge_classification(tables)
    arrests = share.set_index("table").loc["seattle_arrests"]
    msc = [v for v in tables["seattle_arrests"]["most_serious_conviction"].to_pylist() if v]
    assert arrests["rows"] == len(msc)
    classified = sum(ncic_for_text(v)[0] is not None for v in msc)
    assert arrests["rows_classified"] == classified
    assert arrests["share_classified"] > 0.95
    assert list(unclassified["rows"]) == sorted(unclassified["rows"], reverse=True)


def test_msc_columns_match_the_classifier(tables):
    rows = tables["seattle_bookins"].select(
        ["most_serious_conviction", "msc_ncic", "msc_charge_category"]).slice(30000, 300).to_pylist()  # fmt: skip
    for r in rows:
        if r["most_serious_conviction"]:
            got = classify_text(r["most_serious_conviction"])
            assert (r["msc_ncic"], r["msc_charge_category"]) == (
                got["ncic"],
                got["charge_category"],
            )


def test_report_writes_csv_and_offline_html(imported, tmp_path):
    from securecomm.foia.importer import write

    write(imported, tmp_path / "in")
    result = runner.invoke(
        app, ["foia", "report", str(tmp_path / "in"), "--out", str(tmp_path / "r")]
    )
    assert result.exit_code == 0, result.output
    out = tmp_path / "r"
    html = (out / "index.html").read_text()
    assert "What the public data cannot answer" in html and "48-hour" in html
    assert "ethnicity" in html and "<script src=" not in html and "vegaEmbed" in html
    assert "Synthetic data" not in html and "Real ICE records (FOIA releases" in html
    summary = json.loads((out / "summary.json").read_text())
    with open(out / "arrests_by_method_fy.csv") as fh:
        fy = {r["fiscal_year"]: r for r in csv.DictReader(fh)}
    for year, n in summary["seattle_arrests_by_fiscal_year"].items():
        assert int(fy[year]["total"]) == n
    with open(out / "jail_arrests_without_conviction.csv") as fh:
        nc = {r["fiscal_year"]: r for r in csv.DictReader(fh)}
    assert nc["2014"]["no_conviction_share"] == ""  # not reported, not zero
    rows = tables_rows(imported, 2016)
    jail = [r for r in rows if r["arrest_method"] in S.JAIL_PROGRAM_METHODS.value]
    blank = sum(r["most_serious_conviction_status"] == S.BLANK for r in jail)
    assert int(nc["2016"]["no_conviction"]) == blank
    assert float(nc["2016"]["no_conviction_share"]) == pytest.approx(blank / len(jail), abs=1e-4)
    assert f"{summary['seattle_arrests_by_fiscal_year']['2013']:,}" in html


def tables_rows(imported, year):
    t = imported.tables["seattle_arrests"]
    return [r for r in t.select(["fiscal_year", "arrest_method", "most_serious_conviction_status"])
            .to_pylist() if r["fiscal_year"] == year]  # fmt: skip


def test_report_on_a_folder_without_an_import_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["foia", "report", str(tmp_path), "--out", str(tmp_path / "r")])
    assert result.exit_code == 2 and "seattle_arrests.parquet" in result.output
    assert "Traceback" not in result.output


def test_calibration_section_is_replaced_and_survives_synth_regeneration(tables, tmp_path):
    from securecomm.foia.calibration import BEGIN, END, keep_section, real_counts, write_section

    real = real_counts(tables)
    jail = [r for r in tables["seattle_arrests"].select(["arrest_method", "most_serious_conviction_status"])
            .to_pylist() if r["arrest_method"] in S.JAIL_PROGRAM_METHODS.value
            and r["most_serious_conviction_status"] in (S.VALUE, S.BLANK)]  # fmt: skip
    assert real["no_conviction_jail_arrests"] == (
        sum(r["most_serious_conviction_status"] == S.BLANK for r in jail),
        len(jail),
    )
    md = tmp_path / "calibration.md"
    md.write_text("# Calibration\n\n| synth table |\n")
    write_section(md, f"{BEGIN}\nfirst\n{END}")
    write_section(md, f"{BEGIN}\nsecond\n{END}")
    text = md.read_text()
    assert "first" not in text and text.count(BEGIN) == 1 and text.startswith("# Calibration")
    regenerated = keep_section(md, "# Calibration v2\n")
    assert regenerated.startswith("# Calibration v2") and "second" in regenerated


def test_text_mapping_agrees_with_the_codes_ddp_released(tables):
    """The DDP file gives ICE's code beside the text: where it is an NCIC code, the text
    mapping (reviewed table or NCIC description) must find the same one."""
    from securecomm.law.ncic import NCIC_OFFENSES

    t = tables["ddp_detainers_wa"].select(
        ["detainer__most_serious_conviction_charge", "detainer__msc_charge_code"]).to_pylist()  # fmt: skip
    pairs = {(r["detainer__most_serious_conviction_charge"], r["detainer__msc_charge_code"].zfill(4))
             for r in t if r["detainer__most_serious_conviction_charge"]}  # fmt: skip
    checked = [(text, code) for text, code in pairs if code in NCIC_OFFENSES]
    assert len(checked) >= 10
    assert [(text, code) for text, code in checked if ncic_for_text(text)[0] != code] == []
