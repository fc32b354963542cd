"""The oversight CLI end to end on SQLite and PostgreSQL: a complaint from intake to
resolution, the public receipt, a panel frame -> draw -> verify -> record -> finding ->
report, the size calculator, and the monthly oversight report."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from securecomm.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _wide(monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")


def run(db, *args, code=0):
    result = runner.invoke(app, [*args, "--url", db.url])
    assert result.exit_code == code, result.output
    return result


def test_complaint_intake_to_resolution(users_world):
    db, world = users_world
    filed = run(db, "complaints", "file", "--as", "crcl-intake", "--channel", "email",
                "--category", "us_citizen_held", "--language", "vi", "--name", "Nguyen Van A",
                "--contact", "a@example.org", "--narrative", "Tôi là công dân",
                "--link", f"case:{world.case_ids[0]}", "--format", "json")  # fmt: skip
    doc = json.loads(filed.stdout)
    cid, receipt = str(doc["complaint_id"]), doc["receipt_code"]
    run(db, "complaints", "advance", cid, "--to", "investigating", "--as", "crcl-1", code=1)
    wrong = run(
        db, "complaints", "advance", cid, "--to", "acknowledged", "--as", "panelist-1", code=1
    )
    assert "role panel" in wrong.output
    stranger = run(
        db, "complaints", "advance", cid, "--to", "acknowledged", "--as", "j.smith", code=1
    )
    assert "not a registered user" in stranger.output
    run(db, "complaints", "advance", cid, "--to", "acknowledged", "--as", "crcl-1")
    run(db, "complaints", "assign", cid, "--to", "investigator-2", "--as", "crcl-1")
    run(db, "complaints", "advance", cid, "--to", "investigating", "--as", "investigator-2")
    run(db, "complaints", "advance", cid, "--to", "resolved", "--as", "investigator-2",
        "--outcome", "Detainer lifted; ICE retrained the field office")  # fmt: skip
    ice = run(db, "complaints", "show", cid, "--as", "ero-1", "--format", "json")
    assert "Nguyen" not in ice.stdout and "công dân" not in ice.stdout
    crcl = run(db, "complaints", "show", cid, "--as", "crcl-1", "--format", "json")
    assert "Nguyen Van A" in crcl.stdout
    table = run(db, "complaints", "show", cid, "--as", "ero-1")  # user text is never markup
    assert "[withheld: visible to CRCL only]" in table.stdout and "Nguyen" not in table.stdout
    status = run(db, "complaints", "status", receipt, "--format", "json")
    assert json.loads(status.stdout)["stage"] == "resolved"
    listed = run(db, "complaints", "list")
    assert "resolved" in listed.stdout and "Nguyen" not in listed.stdout
    public = run(db, "complaints", "file", "--channel", "web", "--category", "other",
                 "--narrative", "anonymous report", "--format", "json")  # fmt: skip
    assert json.loads(public.stdout)["receipt_code"]
    bad = run(db, "complaints", "file", "--as", "crcl-1", "--category", "rudeness",
              "--narrative", "x", code=1)  # fmt: skip
    assert "category" in bad.output and "Traceback" not in bad.output
    stats = json.loads(run(db, "complaints", "stats").stdout)
    assert stats["by_category"]["us_citizen_held"] is None  # 1: suppressed
    run(db, "complaints", "breaches", "--flag")
    assert "suppressed" in run(db, "complaints", "stats", "--format", "table").stdout
    marked = run(db, "complaints", "file", "--as", "crcl-1", "--channel", "paper", "--category",
                 "other", "--narrative", "[bold]x[/] [link=http://e]y", "--format", "json")  # fmt: skip
    shown = run(db, "complaints", "show", str(json.loads(marked.stdout)["complaint_id"]),
                "--as", "crcl-1")  # fmt: skip
    assert "[bold]x[/] [link=http://e]y" in shown.stdout


def test_panel_frame_draw_verify_record_report(users_world, tmp_path):
    db, _world = users_world
    frame = tmp_path / "frame.csv"
    published = run(db, "panel", "frame", "--period", "2012-Q3", "-o", str(frame),
                    "--as", "panel-chair")  # fmt: skip
    assert "frame SHA-256" in published.stdout and "audit tree head" in published.stdout
    draw = runner.invoke(app, ["panel", "draw", "--frame", str(frame), "--seed", "31415926535",
                               "--size", "6", "--stratify-by", "size_class", "--format", "json"])  # fmt: skip
    assert draw.exit_code == 0, draw.output
    path = tmp_path / "draw.json"
    path.write_text(draw.stdout)
    ok = runner.invoke(app, ["panel", "verify", "--frame", str(frame), "--draw", str(path)])
    assert ok.exit_code == 0 and ok.stdout.startswith("ok: 6 cases")
    doc = json.loads(draw.stdout)
    doc["seed"] = "27182818"
    path.write_text(json.dumps(doc))
    bad = runner.invoke(app, ["panel", "verify", "--frame", str(frame), "--draw", str(path)])
    assert bad.exit_code == 1 and "mismatch" in bad.output
    recorded = run(db, "panel", "draw", "--frame", str(frame), "--seed", "31415926535",
                   "--size", "6", "--stratify-by", "size_class", "--record", "--as", "panel-chair")  # fmt: skip
    draw_id = str(json.loads(recorded.stdout)["draw_id"])
    cases = run(db, "panel", "cases", draw_id, "--as", "panelist-1").stdout.split("\n")
    pseudonym = cases[0].split("\t")[1]
    view = json.loads(run(db, "panel", "case", draw_id, pseudonym, "--as", "panelist-1").stdout)
    assert view["pseudonym"] == pseudonym and "C-OV" not in json.dumps(view)
    answers = [f"--answer={c['id']}=yes" for c in view["checklist"]]
    answers[-1] = answers[-1].replace("=yes", "=no")
    found = run(db, "panel", "finding", draw_id, pseudonym, *answers, "--finding", "deviation",
                "--as", "panelist-1")  # fmt: skip
    finding_id = found.stdout.split("#")[1].split()[0]
    run(db, "panel", "respond", finding_id, "--response", "Reviewed", "--as", "panelist-1", code=1)
    run(db, "panel", "respond", finding_id, "--response", "Reviewed", "--corrective-action",
        "--as", "ero-1")  # fmt: skip
    run(db, "panel", "finding", draw_id, pseudonym, "--answer=priority=maybe", "--finding",
        "adherent", "--as", "panelist-1", code=1)  # fmt: skip
    run(db, "panel", "report", "--draw", draw_id, "--out", str(tmp_path / "report"))
    assert (tmp_path / "report" / f"panel-findings-draw-{draw_id}.html").is_file()


def test_panel_size():
    r = runner.invoke(app, ["panel", "size", "--defect-rate", "0.05", "--confidence", "0.95"])
    assert r.exit_code == 0 and r.stdout.strip() == "59"
    r = runner.invoke(app, ["panel", "size", "--margin", "0.05", "--confidence", "0.95"])
    assert r.exit_code == 0 and r.stdout.strip() == "385"
    r = runner.invoke(app, ["panel", "size"])
    assert r.exit_code == 2 and "--defect-rate" in r.output


def test_oversight_report_and_alerts(users_world, tmp_path):
    db, _world = users_world
    run(db, "oversight", "report", "--month", "2012-08", "--out", str(tmp_path))
    assert (tmp_path / "oversight-2012-08.html").is_file()
    assert (tmp_path / "oversight-2012-08-jurisdictions.csv").is_file()
    bad = run(db, "oversight", "report", "--month", "August", "--out", str(tmp_path), code=1)
    assert "month" in bad.output
    alerts = run(
        db, "oversight", "alerts", "--as", "crcl-1", "--days", "100000", "--format", "json"
    )
    assert any(a["kind"] == "held_past_limit" for a in json.loads(alerts.stdout))
