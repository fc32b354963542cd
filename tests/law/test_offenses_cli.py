"""``securecomm offenses classify`` (v2): unknown codes refused, severity from the code family."""

from __future__ import annotations

from typer.testing import CliRunner

from securecomm.cli import app

runner = CliRunner()


def classify(*args: str):
    return runner.invoke(app, ["offenses", "classify", *args])


def test_unknown_code_is_refused_naming_it() -> None:
    result = classify("1234")
    assert result.exit_code == 2
    assert "1234" in result.output and "Traceback" not in result.output


def test_homicide_without_severity_is_a_felony_not_a_misdemeanor() -> None:
    result = classify("0901")
    assert result.exit_code == 0, result.output
    assert "(felony)" in result.output and "severity from the code's family" in result.output
    assert "misdemeanor" not in result.output
    assert "8 U.S.C. 1101(a)(43)(A)" in result.output


def test_given_severity_wins_and_citations_are_printed() -> None:
    result = classify("5499", "--literal", "DUI", "--severity", "misdemeanor")
    assert result.exit_code == 0, result.output
    assert "serious_traffic" in result.output and "minor_traffic" not in result.output
    assert "[convicting jurisdiction's classification]" in result.output
    assert "severity from the code's family" not in result.output


def test_specific_code_literal_is_not_read() -> None:
    result = classify("2206", "--literal", "EQUIPMENT", "--severity", "misdemeanor")
    assert result.exit_code == 0, result.output
    assert "minor_traffic" not in result.output
