"""Hostile files through the real CLI: ``decide``, ``cases to-parquet`` and ``submit`` never
crash, never print a traceback, reject each bad line alone with a reason, and keep every good
line (issue 9 item 3)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from securecomm.cli import app
from securecomm.hostile import INVISIBLE, hostile_lines, write_huge_line
from securecomm.store.models import RejectedInput, Submission

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).parent / "corpus"
EXAMPLE = json.loads((ROOT / "examples" / "case-young-traffic-violator.json").read_text())
ATTACKS = (CORPUS / "attacks.names").read_text().split("\n")[:-1]
FIRST_LINE_FILES = sorted(CORPUS.glob("first-line-*.jsonl"))

runner = CliRunner()


def cli(*args: str, input: str | bytes | None = None):
    result = runner.invoke(app, list(args), input=input)
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), repr(result.exception)
    return result


def decided(stdout: str) -> list[str]:
    return [json.loads(line)["case_id"] for line in stdout.splitlines() if line.strip()]


# --------------------------------------------------------------------------- decide


@pytest.mark.parametrize("path", FIRST_LINE_FILES, ids=lambda p: p.stem)
def test_decide_reads_line_by_line_whatever_the_first_line_holds(path):
    result = cli("decide", str(path))
    assert decided(result.stdout) == ["good-1", "good-2"]
    bad_first = not path.stem.endswith("bom-and-blank")
    assert result.exit_code == (1 if bad_first else 0), result.output
    if bad_first:
        assert "line 1" in result.stderr


def test_decide_rejects_every_attack_alone(tmp_path):
    rejected = tmp_path / "rejected.jsonl"
    result = cli("decide", str(CORPUS / "attacks.jsonl"), "--rejected", str(rejected))
    assert result.exit_code == 1
    assert decided(result.stdout) == ["good-1", "good-2"]
    kept = [json.loads(line) for line in rejected.read_text().splitlines()]
    assert [k["line"] for k in kept] == list(range(2, 2 + len(ATTACKS)))
    for k, name in zip(kept, ATTACKS, strict=True):
        assert k["errors"] and all(e["message"] for e in k["errors"]), name
    # the terminal shows control characters escaped, never raw
    assert "\x1b" not in result.stderr and "\u202e" not in result.stderr


def test_decide_refuses_a_huge_line_while_reading(tmp_path):
    good = json.dumps({**EXAMPLE, "case_id": "after-huge"})
    path = write_huge_line(tmp_path / "h.jsonl", 8 << 20, after=good + "\n")
    result = cli("decide", str(path))
    assert result.exit_code == 1 and decided(result.stdout) == ["after-huge"]
    assert "longer than the limit" in result.stderr


# --------------------------------------------------------------------------- cases to-parquet


def test_to_parquet_keeps_good_cases_and_rejects_each_attack(tmp_path):
    dst = tmp_path / "out" / "c.parquet"
    result = cli("cases", "to-parquet", str(CORPUS / "attacks.jsonl"), str(dst))
    assert result.exit_code == 1
    assert pq.read_table(dst).column("case_id").to_pylist() == ["good-1", "good-2"]
    kept = [json.loads(line) for line in Path(f"{dst}.rejected.jsonl").read_text().splitlines()]
    assert len(kept) == len(ATTACKS)
    reasons = {name: k["errors"][0]["message"] for name, k in zip(ATTACKS, kept, strict=True)}
    assert "duplicate key" in reasons["duplicate key"]
    assert "NaN" in reasons["NaN"]
    assert "4300 digits" in reasons["huge integer"]
    assert "nested deeper" in reasons["deep nesting"]


@pytest.mark.parametrize("path", FIRST_LINE_FILES, ids=lambda p: p.stem)
def test_to_parquet_whatever_the_first_line_holds(path, tmp_path):
    dst = tmp_path / "c.parquet"
    cli("cases", "to-parquet", str(path), str(dst))
    assert pq.read_table(dst).column("case_id").to_pylist() == ["good-1", "good-2"]


# --------------------------------------------------------------------------- submit


def _booking_lines(world, n: int) -> list[str]:
    return [line.rstrip("\n") for line in list(world.booking_lines())[:n]]


def test_submit_rejects_each_attack_alone_in_one_batch(seeded, tiny_world, tmp_path):
    """One batch (the default 2,000 lines) holding every attack: the good lines are all
    stored, each attack is rejected with its reason; the batch is never lost."""
    good = _booking_lines(tiny_world, 6)
    record = json.loads(good[0])
    attacks = list(hostile_lines(record, identifier_field="tcn"))
    names = {"tcn": None}
    for ch_name, ch in INVISIBLE.items():  # names made of invisible characters, a bad birth
        doc = json.loads(good[1])
        doc["tcn"] = "HOSTILE-" + str(len(attacks))
        doc["biographics"]["names"][0]["first"] = ch * 3
        attacks.append((f"name of {ch_name}", json.dumps(doc)))
    for label, birth, booked in (
        ("birth in 2099", "2099-01-01", None),
        ("birth in 1700", "1700-01-01", None),
        ("booked in year 1", None, "0001-01-01T10:00:00+00:00"),
    ):
        doc = json.loads(good[2])
        doc["tcn"] = "HOSTILE-" + str(len(attacks))
        if birth:
            doc["biographics"]["birth_date"] = birth
        if booked:
            doc["booked_at"] = booked
            doc.pop("arrested_at", None)
        attacks.append((label, json.dumps(doc)))
    del names
    lines = [g.encode() for g in good[:3]]
    lines += [a if isinstance(a, bytes) else a.encode("utf-8", "surrogatepass") for _, a in attacks]
    lines += [g.encode() for g in good[3:]]
    path = tmp_path / "b.jsonl"
    path.write_bytes(b"junk first line\n" + b"\n".join(lines) + b"\n")
    result = cli("submit", str(path), "--url", seeded.url, "--format", "json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["accepted"] == 6
    assert report["rejected"] == len(attacks) + 1  # and the junk first line
    with seeded.session() as s:
        assert s.scalar(select(func.count()).select_from(Submission)) == 6
        assert s.scalar(select(func.count()).select_from(RejectedInput)) == len(attacks) + 1
        stored = {r.errors[0]["line"]: r.errors for r in s.scalars(select(RejectedInput))}
    assert sorted(stored) == [1, *range(5, 5 + len(attacks))], sorted(stored)
    for n, (name, _) in enumerate(attacks, start=5):
        fields = {e["field"] for e in stored[n]}
        assert fields, name
        if name.endswith("in identifier") or name.startswith("identifier made"):
            assert "tcn" in fields, (name, fields)
        if name.startswith("name of"):
            assert any(f.startswith("biographics.names.0.first") for f in fields), (name, fields)
        if name.startswith("birth"):
            assert "biographics.birth_date" in fields, (name, fields)
        if name.startswith("booked"):
            assert "booked_at" in fields, (name, fields)

    # submitting the same file again: its rejects are not recorded a second time
    again = cli("submit", str(path), "--url", seeded.url, "--format", "json")
    report = json.loads(again.stdout)
    assert report["duplicates"] == 6 and report["rejected_known"] == report["rejected"]
    with seeded.session() as s:
        assert s.scalar(select(func.count()).select_from(RejectedInput)) == len(attacks) + 1


def test_submit_refuses_a_huge_line_while_reading(seeded, tiny_world, tmp_path):
    good = _booking_lines(tiny_world, 2)
    path = write_huge_line(tmp_path / "h.jsonl", 16 << 20, before=good[0] + "\n",
                           after=good[1] + "\n")  # fmt: skip
    result = cli("submit", str(path), "--url", seeded.url, "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert (report["accepted"], report["rejected"]) == (2, 1)
    with seeded.session() as s:
        [row] = s.scalars(select(RejectedInput)).all()
        assert row.errors[0]["field"] == "(line)" and row.errors[0]["line"] == 2
        assert len(row.raw_text) <= 8192  # only the head is kept
