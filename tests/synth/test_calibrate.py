"""Calibration against published figures, and the `securecomm synth` commands."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
import typer
import yaml
from typer.testing import CliRunner

from securecomm.synth.calibrate import TARGETS, calibrate
from securecomm.synth.commands import synth_app
from securecomm.synth.params import DEFAULT_PATH, load_params, validate_document


@pytest.fixture(scope="module")
def report():
    return calibrate(0.01, seed=0)


def test_every_row_within_tolerance(report):
    assert report.bookings > 50_000 and report.matched > 5_000
    failing = [(r.target.key, r.simulated) for r in report.rows if not r.passed]
    assert not failing
    assert [r.target.key for r in report.rows] == [t.key for t in TARGETS]
    for r in report.rows:
        assert r.denominator > 0 and r.numerator <= r.denominator
        assert r.target.source and r.target.rationale and 0 < r.target.tolerance < 0.2


def test_published_rates_derive_from_the_counts():
    t = {x.key: x.value for x in TARGETS}
    assert t["custody_per_submission"] == pytest.approx(197_302 / 7_225_393)
    assert t["removals_per_custody"] == pytest.approx(101_741 / 197_302)
    assert t["convicted_share_of_removals"] == pytest.approx(72_445 / 101_741)
    assert t["us_citizen_share_of_ice_arrests"] == pytest.approx(0.0159, abs=1e-4)


def test_calibration_can_fail(tmp_path):
    # a nation where ICE takes everyone into custody is far off the published rates
    doc = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    doc["custody_rate"]["value"] = {"convicted": 1.0, "charged_only": 1.0,
                                    "no_criminal_history": 1.0}  # fmt: skip
    report = calibrate(0.002, seed=0, params=validate_document(doc))
    assert not report.passed
    assert not report.row("custody_per_submission").passed


def test_markdown_table(report):
    text = report.to_markdown()
    assert "| figure | published | simulated | tolerance | pass |" in text
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + len(TARGETS)  # header and one row per target
    assert all("| pass |" in line for line in rows)
    assert "197,302 / 7,225,393" in text and "TRAC" in text


def _app() -> typer.Typer:
    app = typer.Typer()
    app.add_typer(synth_app, name="synth")
    return app


def test_cli_generate(tmp_path):
    out = tmp_path / "nation.parquet"
    result = CliRunner().invoke(_app(), ["synth", "generate", "--scale", "small", "--seed", "4",
                                         "--sample-fraction", "0.0002", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and "bookings" in result.output
    table = pq.read_table(out)
    assert table.num_rows > 1000 and table.num_rows == pq.ParquetFile(out).metadata.num_rows
    assert f"{table.num_rows:,} bookings" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["generate", "--scale", "galactic"], "--scale"),
        (["generate", "--sample-fraction", "2"], "sample_fraction"),
        (["calibrate", "--sample-fraction", "0"], "--sample-fraction"),
    ],
)
def test_cli_errors(args, message):
    result = CliRunner().invoke(_app(), ["synth", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_cli_params_error_names_the_parameter(tmp_path):
    doc = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    del doc["female_share"]["source"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(doc))
    result = CliRunner().invoke(_app(), ["synth", "calibrate", "--params", str(bad)])
    assert result.exit_code == 2
    assert "female_share: missing 'source'" in result.output


def test_cli_calibrate_writes_markdown(tmp_path):
    md = tmp_path / "calibration.md"
    result = CliRunner().invoke(_app(), ["synth", "calibrate", "--sample-fraction", "0.01",
                                         "--markdown", str(md)])
    assert result.exit_code == 0, result.output
    assert "every row within tolerance" in result.output
    assert md.read_text().startswith("# Calibration of the synthetic nation")
    assert load_params()  # untouched
