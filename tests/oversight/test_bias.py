"""Bias and pretext monitor (HSAC Task Force IV rec. 5) on small synthetic nations with known
truth, and Arrest counts v1 validation."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from securecomm.cli import app
from securecomm.oversight.arrest_counts import (
    ArrestInputError,
    read_activations,
    read_arrests,
    validate_arrests,
)
from securecomm.oversight.bias import benjamini_hochberg, monitor_bias, panel_from_counts
from securecomm.synth.arrests import ArrestSpec, generate_arrests, parse_inject

# a modest nation: the states of the first activations and their neighbours (hundreds of
# counties); all arrests (sample fraction 1) so sizes are realistic
STATES = ("TX", "CA", "AZ", "NM", "OK", "LA", "NV")


def _acts(result) -> dict:
    return dict(zip(result.activations["ori"].to_pylist(),
                    result.activations["activated_on"].to_pylist(), strict=True))  # fmt: skip


def _monitor(result):
    counts = validate_arrests(result.arrests)
    assert counts.rejected == []
    return monitor_bias(panel_from_counts(counts.table, _acts(result)))


@pytest.fixture(scope="module")
def null_nation():
    return generate_arrests(ArrestSpec(seed=11, sample_fraction=1.0, states=STATES, rho=0.5))


def test_generator_is_seeded_and_consistent_with_the_rollout(null_nation):
    again = generate_arrests(ArrestSpec(seed=11, sample_fraction=1.0, states=STATES, rho=0.5))
    assert again.arrests.equals(null_nation.arrests)
    from securecomm.synth.jurisdictions import jurisdictions_table
    from securecomm.synth.params import load_params

    jur = jurisdictions_table(load_params(), 11)
    dates = dict(zip(jur["ori"].to_pylist(), jur["activated_on"].to_pylist(), strict=True))
    acts = _acts(null_nation)
    assert acts and all(dates[o] == d for o, d in acts.items())
    # every (jurisdiction, month) has its nine cells, counts non-negative
    months = len(set(null_nation.arrests["month"].to_pylist()))
    assert null_nation.arrests.num_rows == len(acts) * months * 9
    assert min(null_nation.arrests["arrests"].to_pylist()) >= 0


def test_null_nation_no_flags_and_nominal_rejection_rate(null_nation):
    results = _monitor(null_nation)
    tested = [r for r in results if r.status == "tested"]
    assert len(tested) > 150
    p = np.array([r.p_value for r in tested])
    # under no effect p-values are about uniform: the share below 0.05 stays near 5 %
    # (binomial SD at n ~ 300 is 1.3 points; 0.10 is far beyond noise, a broken variance is not)
    assert (p < 0.05).mean() <= 0.10
    assert sum(r.flagged for r in results) == 0
    q = np.array([r.q_value for r in tested])
    assert np.all(q >= p - 1e-12)


def test_injected_effect_is_found_and_measured(null_nation):
    acts = _acts(null_nation)
    sizes = {}
    for r in _monitor(null_nation):
        if r.status == "tested" and r.minor_arrests_per_month >= 100:
            sizes[r.ori] = r.minor_arrests_per_month
    chosen = sorted(sizes)[:5]
    assert len(chosen) == 5
    injected = generate_arrests(ArrestSpec(seed=11, sample_fraction=1.0, states=STATES, rho=0.5,
                                           inject={o: 20.0 for o in chosen}))  # fmt: skip
    assert _acts(injected) == acts
    by_ori = {r.ori: r for r in _monitor(injected)}
    for ori in chosen:
        assert by_ori[ori].flagged, ori
        assert 10 < by_ori[ori].effect < 30  # +20 points, measured
    false = [o for o, r in by_ori.items() if r.flagged and o not in chosen]
    assert len(false) <= 1


def test_benjamini_hochberg_matches_the_step_up_rule():
    p = np.array([0.01, 0.04, 0.03, 0.005, 0.5])
    q = benjamini_hochberg(p)
    # sorted p: .005 .01 .03 .04 .5 -> p*5/rank: .025 .025 .05 .05 .5
    assert np.allclose(q, [0.025, 0.05, 0.05, 0.025, 0.5])


def test_parse_inject_errors_name_the_item():
    assert parse_inject(["TX1130000:10", "CA0370000:-2.5"]) == {"TX1130000": 10.0,
                                                                 "CA0370000": -2.5}  # fmt: skip
    for bad in (["TX1130000"], ["TX1130000:ten"], ["TX1130000:80"], ["A:1", "A:2"]):
        with pytest.raises(ValueError, match="--inject #"):
            parse_inject(bad)


def test_bad_rows_rejected_by_line_and_field_good_rows_kept(tmp_path):
    path = tmp_path / "arrests.csv"
    path.write_text(
        "ori,month,ethnicity,offense_class,arrests\n"
        "TX1130000,2009-01,H,minor_traffic,5\n"  # good (line 2)
        "TX1130000,2009-13,H,other,5\n"  # bad month (3)
        "tx1130000,2009-01,N,other,5\n"  # bad ori (4)
        "TX1130000,2009-01,X,other,5\n"  # bad ethnicity (5)
        "TX1130000,2009-01,N,felony,5\n"  # bad class (6)
        "TX1130000,2009-01,N,other,-1\n"  # bad count (7)
        "TX1130000,2009-01,H,minor_traffic,6\n"  # duplicate of line 2 (8)
        "TX1130000,2009-02,\u202eH,other,1\n"  # bidi control in a field (9)
        "TX1130000,2009-02,N,other,3\n",  # good (10)
        encoding="utf-8",
    )
    counts = read_arrests(path)
    assert counts.table.num_rows == 2
    assert counts.table["arrests"].to_pylist() == [5, 3]
    got = [(r.line, r.field) for r in counts.rejected]
    assert got == [
        (3, "month"),
        (4, "ori"),
        (5, "ethnicity"),
        (6, "offense_class"),
        (7, "arrests"),
        (8, "ori,month,ethnicity,offense_class"),
        (9, "ethnicity"),
    ]
    # the reason never echoes the value
    assert all("\u202e" not in r.reason and "felony" not in r.reason for r in counts.rejected)


def test_missing_columns_and_files_are_clear_errors(tmp_path):
    with pytest.raises(ArrestInputError, match="no such file"):
        read_arrests(tmp_path / "nope.csv")
    p = tmp_path / "a.parquet"
    pq.write_table(pa.table({"ori": ["TX1130000"], "month": ["2009-01"]}), p)
    with pytest.raises(ArrestInputError, match="missing column"):
        read_arrests(p)
    acts = tmp_path / "act.csv"
    acts.write_text("ori,activated_on\nTX1130000,2008-10-27\nTX1130000,2009-01-01\n"
                    "CA0370000,\nCA0010000,27/10/2008\n", encoding="utf-8")  # fmt: skip
    a = read_activations(acts)
    assert a.dates == {"TX1130000": __import__("datetime").date(2008, 10, 27), "CA0370000": None}
    assert [(r.line, r.field) for r in a.rejected] == [(3, "ori"), (5, "activated_on")]


def test_cli_synth_arrests_and_monitor_bias(tmp_path):
    runner = CliRunner()
    out, act = tmp_path / "arrests.parquet", tmp_path / "act.csv"
    r = runner.invoke(app, ["synth", "arrests", "--scale", "small", "--seed", "3",
                            "--out", str(out), "--activations", str(act)])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert pq.read_metadata(out).num_rows > 1_000_000
    # a few states keep the CLI test fast: filter the written file
    table = pq.read_table(out)
    keep = pa.compute.is_in(pa.compute.utf8_slice_codeunits(table["ori"], 0, 2),
                            pa.array(["AZ", "NM", "NV", "UT"]))  # fmt: skip
    small = tmp_path / "small.parquet"
    pq.write_table(table.filter(keep), small)
    r = runner.invoke(app, ["monitor", "bias", str(small), "--activations", str(act),
                            "--format", "json"])  # fmt: skip
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    assert rows and {
        "ori",
        "flagged",
        "effect",
        "p_value",
        "q_value",
        "minor_arrests_per_month",
        "pretrend_p",
        "comparison",
    } <= set(rows[0])
    r = runner.invoke(app, ["monitor", "bias", str(small), "--activations", str(act),
                            "--format", "csv"])  # fmt: skip
    assert r.exit_code == 0 and r.stdout.startswith('"ori","flagged"')
    # bad input: named, exit 1, good rows still used
    bad = tmp_path / "bad.csv"
    pacsv.write_csv(table.filter(keep).slice(0, 2000), bad)
    with bad.open("a", encoding="utf-8") as f:
        f.write("AZ0010000,2009-01,H,minor_traffic,lots\n")
    r = runner.invoke(app, ["monitor", "bias", str(bad), "--activations", str(act)])
    assert r.exit_code == 1
    assert "line 2002: arrests: expected a non-negative whole number" in r.stderr
    r = runner.invoke(app, ["monitor", "bias", str(tmp_path / "none.csv"), "--activations",
                            str(act)])  # fmt: skip
    assert r.exit_code == 2 and "no such file" in r.stderr and "Traceback" not in r.output


def test_event_study_with_pyfixest_sees_an_injected_rise():
    from securecomm.oversight.bias import event_study
    from securecomm.synth.jurisdictions import jurisdictions_table
    from securecomm.synth.params import load_params

    jur = jurisdictions_table(load_params(), 5)
    oris = [o for o, s in zip(jur["ori"].to_pylist(), jur["state"].to_pylist(), strict=True)
            if s in ("NM", "AZ")]  # fmt: skip
    result = generate_arrests(ArrestSpec(seed=5, sample_fraction=1.0, states=("NM", "AZ"),
                                         inject={o: 15.0 for o in oris}))  # fmt: skip
    counts = validate_arrests(result.arrests)
    es = event_study(panel_from_counts(counts.table, _acts(result)))
    post = [c for c in es["coefficients"] if c["relative_month"] >= 1]
    pre = [c for c in es["coefficients"] if c["relative_month"] <= -2]
    assert post and pre and es["pretrend_p"] is not None
    # +15 points on the share is a clear rise of the log-odds difference after activation
    assert np.mean([c["estimate"] for c in post]) > 0.3
    assert abs(np.mean([c["estimate"] for c in pre])) < 0.1
