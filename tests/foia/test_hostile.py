"""Hostile variants of the real files, written at test time: each bad row is set aside with its
line number and reason and costs no good row; a file that cannot be read is one clear error."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from securecomm.cli import app
from securecomm.foia import sources as S
from securecomm.foia.reader import FoiaInputError, read_file

runner = CliRunner()
SEATTLE = "uwchr-seattle-aor"
ARRESTS = next(s for s in S.SEATTLE if s.name == "arrests.csv.gz")
ENCOUNTERS = next(s for s in S.SEATTLE if s.name == "CAP-FY2017-encounters.csv.gz")
NPR_USC = S.NPR_FILES[0]


def head_lines(real: Path, spec: S.FileSpec, release: str, n: int) -> list[str]:
    path = real / release / spec.name
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return [next(fh).rstrip("\n") for _ in range(n)]


def write(tmp: Path, spec: S.FileSpec, lines: list[str], *, newline: bool = True) -> Path:
    path = tmp / spec.name
    text = "\n".join(lines) + ("\n" if newline else "")
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text, encoding="utf-8")
    return path


def read(path: Path, spec: S.FileSpec, release: str = SEATTLE):
    return read_file(path, spec, release)


def test_small_clean_sample_reads_without_rejects(real, tmp_path):
    lines = head_lines(real, ARRESTS, SEATTLE, 60)
    r = read(write(tmp_path, ARRESTS, lines), ARRESTS)
    assert len(r.rows) == 60 - 7 and r.rejects == []


def test_truncated_gzip_is_a_clear_error(real, tmp_path):
    data = (real / SEATTLE / ARRESTS.name).read_bytes()
    path = tmp_path / ARRESTS.name
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(FoiaInputError, match=r"arrests.csv.gz: truncated file"):
        read(path, ARRESTS)


def test_truncated_text_mid_line_is_a_clear_error(real, tmp_path):
    lines = head_lines(real, NPR_USC, "npr-detainers-lifted", 30)
    lines[-1] = lines[-1][:25]  # cut inside the last record, no line end
    path = write(tmp_path, NPR_USC, lines, newline=False)
    with pytest.raises(FoiaInputError, match=r"truncated file \(line 30"):
        read(path, NPR_USC, "npr-detainers-lifted")


def test_header_moved_below_data_is_a_clear_error(real, tmp_path):
    lines = head_lines(real, ARRESTS, SEATTLE, 40)
    header = lines.pop(6)
    lines.insert(20, header)
    with pytest.raises(
        FoiaInputError,
        match=r"the header is on line 21; expected within the first 9 line\(s\), above the data",
    ):
        read(write(tmp_path, ARRESTS, lines), ARRESTS)


def test_header_pushed_down_by_extra_title_lines_is_a_clear_error(real, tmp_path):
    lines = head_lines(real, ARRESTS, SEATTLE, 20)
    lines[5:5] = ['"note"|||||||'] * 5
    with pytest.raises(
        FoiaInputError, match=r"the header is on line 12; expected within the first 9"
    ):
        read(write(tmp_path, ARRESTS, lines), ARRESTS)


def test_renamed_header_column_is_named_in_the_error(real, tmp_path):
    lines = head_lines(real, ARRESTS, SEATTLE, 20)
    lines[6] = lines[6].replace('"Arrest Method"', '"Method"')
    with pytest.raises(FoiaInputError, match=r"Arrest Method"):
        read(write(tmp_path, ARRESTS, lines), ARRESTS)


def test_unknown_disposition_is_set_aside_with_its_line(real, tmp_path):
    lines = head_lines(real, ENCOUNTERS, SEATTLE, 40)
    lines[19] = lines[19].replace('|"Not in Custody"|', '|"Released to Mars"|', 1)
    lines[19] = lines[19].replace(
        '|"Warrant of Arrest/Notice to Appear"|', '|"Released to Mars"|', 1
    )
    assert "Released to Mars" in lines[19]
    r = read(write(tmp_path, ENCOUNTERS, lines), ENCOUNTERS)
    assert [(x["source_line"], "Processing Disposition" in x["reason"]) for x in r.rejects] == [
        (20, True)
    ]
    assert len(r.rows) == 40 - 6 - 1
    assert 20 not in {row["source_line"] for row in r.rows}


def test_invalid_date_is_set_aside_and_redacted_date_kept_as_redacted(real, tmp_path):
    lines = head_lines(real, ARRESTS, SEATTLE, 30)
    date10 = lines[9].split("|", 1)[0]
    lines[9] = lines[9].replace(date10, "13/45/2015", 1)
    lines[10] = '"(b)(6),(b)(7)c)"|' + lines[10].split("|", 1)[1]
    lines[11] = "2/30/2014|" + lines[11].split("|", 1)[1]
    r = read(write(tmp_path, ARRESTS, lines), ARRESTS)
    assert {x["source_line"]: x["reason"].split(":")[0] for x in r.rejects} == {
        10: "Arrest Date",
        12: "Arrest Date",
    }
    kept = {row["source_line"]: row for row in r.rows}
    assert kept[11]["arrest_date_status"] == S.REDACTED
    assert kept[11]["arrest_date"] is None and kept[11]["fiscal_year"] is None
    assert kept[11]["most_serious_conviction_status"] != S.VALUE
    assert len(r.rows) == 30 - 7 - 2


def test_junk_empty_and_footnote_lines_are_set_aside_not_dropped(real, tmp_path):
    lines = head_lines(real, ARRESTS, SEATTLE, 30)
    lines.insert(15, "garbage that is not a record")
    lines.insert(16, "")
    lines.insert(17, '"unterminated|x|y|z|a|b|c|d')
    lines.append('"Footnote: data are preliminary"|||||||')
    r = read(write(tmp_path, ARRESTS, lines), ARRESTS)
    reasons = {x["source_line"]: x["reason"] for x in r.rejects}
    assert reasons[16].startswith("expected 8 fields, found 1")
    assert reasons[17].startswith("expected 8 fields") or reasons[17] == "empty line"
    assert reasons[18] == "broken quoting"
    assert len(lines) in reasons  # the footnote, last line
    assert len(r.rows) == 30 - 7


def test_unsafe_characters_are_set_aside_without_the_raw_line(real, tmp_path):
    lines = head_lines(real, ARRESTS, SEATTLE, 20)
    lines[12] = lines[12].replace("MEXICO", "MEX\u202eICO", 1)
    r = read(write(tmp_path, ARRESTS, lines), ARRESTS)
    assert [x["source_line"] for x in r.rejects] == [13]
    assert "U+202E" in r.rejects[0]["reason"] and r.rejects[0]["raw_line"] == ""


def test_empty_and_missing_files_are_clear_errors(tmp_path):
    (tmp_path / ARRESTS.name).write_bytes(gzip.compress(b""))
    with pytest.raises(FoiaInputError, match=r"arrests\.csv\.gz: empty file"):
        read(tmp_path / ARRESTS.name, ARRESTS)
    with pytest.raises(FoiaInputError, match="no such file"):
        read(tmp_path / "nope.csv.gz", ARRESTS)


def _release_copy(real: Path, tmp: Path) -> Path:
    dest = tmp / "real"
    shutil.copytree(real, dest)
    for p in dest.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    return dest


def test_cli_reports_a_bad_file_in_one_line_without_traceback(real, tmp_path):
    root = _release_copy(real, tmp_path)
    (root / SEATTLE / "bookins.csv.gz").write_bytes(b"")
    result = runner.invoke(app, ["foia", "import", "all", str(root), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "bookins.csv.gz: empty file" in result.output
    assert "Traceback" not in result.output
    (root / SEATTLE / "bookins.csv.gz").unlink()
    result = runner.invoke(
        app, ["foia", "import", SEATTLE, str(root / SEATTLE), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2 and "bookins.csv.gz: no such file" in result.output


def test_cli_import_keeps_rejects_in_a_table(real, tmp_path):
    import pyarrow.parquet as pq

    root = _release_copy(real, tmp_path)
    path = root / "npr-detainers-lifted" / NPR_USC.name
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[5] = "not-a-date," + lines[5].split(",", 1)[1]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "o"
    result = runner.invoke(app, ["foia", "import", "npr-detainers-lifted", str(root / "npr-detainers-lifted"),
                                 "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "us-citizen-interviewed.csv:6: date: not a date" in result.output
    rejects = pq.read_table(out / "rejects.parquet").to_pylist()
    assert [(r["source_line"], r["release"]) for r in rejects] == [(6, "npr-detainers-lifted")]
    table = pq.read_table(out / "npr_detainers_lifted.parquet")
    assert table.num_rows == (len(lines) - 1 - 1) + 1846
    assert "county_geoid" in table.column_names  # placed via ../crosswalks


def test_output_path_that_is_a_file_is_a_clear_error(real, tmp_path):
    target = tmp_path / "a-file"
    target.write_text("x")
    result = runner.invoke(
        app, ["foia", "import", "crosswalks", str(real / "crosswalks"), "--out", str(target)]
    )
    assert result.exit_code == 2 and "--out:" in result.output and "not a folder" in result.output
    assert "Traceback" not in result.output
