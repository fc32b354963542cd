"""Disclosure control across every published table (monthly, state, quarterly, national):
complementary suppression, checked by a differencing attack."""

from __future__ import annotations

import numpy as np
import pytest

from securecomm.stats.disclosure import differencing_attack, protect_tables, published_tables
from securecomm.stats.source import StatsInputError
from securecomm.stats.testing import generate_outcomes

K = 11  # cells of 1..10 must not be published, nor recoverable


@pytest.fixture(scope="module")
def tables():
    # 80 jurisdictions in 51 states, 4 months (two quarters): many small cells
    return published_tables(generate_outcomes(8_000, jurisdictions_n=80, months=4, seed=3))


def _primary_only(tables):
    """Cell-by-cell suppression, as each table alone would do it."""
    p = protect_tables(tables, suppress_below=K)
    cells = p.cells.copy()
    cells["suppressed"] = cells["primary"]
    p.cells = cells
    return p


def test_cell_by_cell_suppression_is_broken_by_subtraction(tables):
    attack = differencing_attack(_primary_only(tables))
    small = attack[(attack.recovered >= 1) & (attack.recovered <= 10)]
    # the attack is real: it recovers hidden small cells from the published totals
    assert len(small) > 50
    # and what it recovers is the true value
    p = protect_tables(tables, suppress_below=K)
    truth = p.cells.set_index(["table", "row"])["count"]
    for r in small.head(20).itertuples():
        assert truth.loc[(r.table, r.row)] == r.recovered


def test_complementary_suppression_holds_against_differencing(tables):
    p = protect_tables(tables, suppress_below=K)
    assert p.stats["complementary"] > 0
    attack = differencing_attack(p)
    assert attack.empty, attack.head()
    # nothing of 1..10 is published in any table; what is published is the true count
    for name, t in p.tables.items():
        shown = t["count"].dropna().astype(int)
        assert not ((shown >= 1) & (shown < K)).any(), name
        assert (shown == tables[name]["count"][shown.index]).all(), name


def test_no_hidden_small_cell_is_determined_by_the_whole_system():
    """The full attack on a small source: a hidden cell is recoverable iff every solution of
    the published equations gives it the same value, i.e. the null space of the equations
    restricted to the hidden cells is zero in that coordinate."""
    src = generate_outcomes(600, jurisdictions_n=12, months=2, seed=8)
    p = protect_tables(published_tables(src), suppress_below=K)
    cells, eqs = p.cells, p.equations
    hidden = np.flatnonzero(cells["suppressed"].to_numpy())
    col = {c: i for i, c in enumerate(hidden)}
    rows = {e: i for i, e in enumerate(sorted(set(eqs["eq"])))}
    a = np.zeros((len(rows), len(hidden)))
    for e, c, coef in eqs[["eq", "cell", "coef"]].itertuples(index=False):
        if c in col:
            a[rows[e], col[c]] = coef
    _, s, vt = np.linalg.svd(a, full_matrices=True)
    rank = int((s > 1e-9).sum())
    null = vt[rank:]
    determined = np.all(np.abs(null) < 1e-9, axis=0) if len(null) else np.ones(len(hidden), bool)
    counts = cells["count"].to_numpy()[hidden]
    small = (counts >= 1) & (counts < K)
    assert small.any()
    assert not (determined & small).any()


def test_bad_threshold_is_a_clear_error(tables):
    with pytest.raises(StatsInputError, match="suppress_below"):
        protect_tables(tables, suppress_below=1)


def test_quarterly_report_has_the_monthly_small_cell_protection(tmp_path):
    import pyarrow.parquet as pq

    from securecomm.stats.quarterly import quarterly_report

    src = generate_outcomes(3_000, jurisdictions_n=60, months=3, seed=2)
    plain = quarterly_report(src, quarter="2012-Q1").to_pyarrow().to_pylist()
    hidden = quarterly_report(src, quarter="2012-Q1", suppress_below=K).to_pyarrow().to_pylist()
    assert len(plain) == len(hidden)
    n_small = 0
    for a, b in zip(plain, hidden, strict=True):
        small = 1 <= a["count"] < K
        n_small += small
        assert b["suppressed"] is small
        assert b["count"] == (None if small else a["count"])
    assert n_small > 0
    # the CLI option, and the HTML shows "s", never a total that would reveal the cell
    path = tmp_path / "o.parquet"
    pq.write_table(src, path)
    from typer.testing import CliRunner

    from securecomm.cli import app

    html = tmp_path / "q.html"
    r = CliRunner().invoke(
        app,
        [
            "stats",
            "quarterly",
            str(path),
            "--quarter",
            "2012-Q1",
            "--suppress-below",
            "11",
            "--format",
            "html",
            "--out",
            str(html),
        ],
    )
    assert r.exit_code == 0, r.output
    assert ">s<" in html.read_text(encoding="utf-8")


def test_publish_command_writes_protected_tables(tmp_path):
    import json

    import pyarrow.parquet as pq
    from typer.testing import CliRunner

    from securecomm.cli import app

    path = tmp_path / "o.parquet"
    pq.write_table(generate_outcomes(4_000, jurisdictions_n=50, months=3, seed=4), path)
    r = CliRunner().invoke(app, ["stats", "publish", str(path), "--out", str(tmp_path / "pub"),
                                 "--privacy-budget", "1"])  # fmt: skip
    assert r.exit_code == 0, r.output
    ledger = json.loads((tmp_path / "pub" / "privacy-ledger.json").read_text(encoding="utf-8"))
    assert len(ledger) == 3 and all(e["epsilon_spent"] == 1.0 for e in ledger)
    assert (tmp_path / "pub" / "monthly-noisy.csv").is_file()
    r = CliRunner().invoke(app, ["stats", "publish", str(path), "--out", str(tmp_path / "p2"),
                                 "--privacy-budget", "-1"])  # fmt: skip
    assert r.exit_code == 2 and "--privacy-budget" in r.stderr
    for name in ("monthly", "state", "quarterly", "national"):
        assert (tmp_path / "pub" / f"{name}.csv").is_file()
    info = json.loads((tmp_path / "pub" / "disclosure.json").read_text(encoding="utf-8"))
    assert info["suppress_below"] == 11 and info["complementary"] > 0


def test_privacy_budget_release_meets_its_error_and_publishes_every_cell(tables):
    from securecomm.stats.privacy import noisy_monthly

    monthly = tables["monthly"]
    release = noisy_monthly(monthly, epsilon=1.0)
    sel = monthly[monthly.measure.isin(["submissions", "detainers"])]
    assert len(release.table) == len(sel)  # every cell, the small ones too
    assert release.table["count"].notna().all()
    err = np.abs(release.table["count"].to_numpy() - sel["count"].to_numpy())
    # scale 2 (two partitions, epsilon 1): P(|X| <= 5) is about 0.95
    assert (err <= 5).mean() >= 0.9
    assert err.max() > 0  # noise was added
    months = sorted({str(m)[:7] for m in sel["month"]})
    assert [e["month"] for e in release.ledger] == months
    for entry in release.ledger:
        assert entry["epsilon_spent"] == pytest.approx(1.0)
        assert entry["l1_sensitivity"] == 2 and entry["expected_abs_error_90"] <= 5
    # more cells published than suppression allows
    protected = protect_tables(tables, suppress_below=K).tables["monthly"]
    shown = protected[protected.measure.isin(["submissions", "detainers"])]["count"].notna()
    assert shown.sum() < len(release.table)
    with pytest.raises(StatsInputError, match="privacy-budget"):
        noisy_monthly(monthly, epsilon=0)
    with pytest.raises(StatsInputError, match="dp-measure"):
        noisy_monthly(monthly, epsilon=1, measures=("removals",))
