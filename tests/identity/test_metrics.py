from __future__ import annotations

import math

import numpy as np
import pytest

from securecomm.identity.metrics import (
    error_rates,
    identification_rates,
    tail_fmr_from_topk,
    threshold_for_fmr,
)

GENUINE = [0.95, 0.91, 0.88, 0.80, 0.72, 0.60, 0.97, 0.93, 0.90, 0.85]
IMPOSTOR = [0.10, -0.05, 0.30, 0.72, 0.20, 0.00, 0.15, 0.50, -0.20, 0.05]


def test_error_rates_on_hand_made_lists():
    r = error_rates(GENUINE, IMPOSTOR, 0.75)
    assert r.fmr == 0.0  # the highest impostor, 0.72, is below 0.75
    assert r.fnmr == pytest.approx(2 / 10)  # 0.72 and 0.60 below
    assert (r.n_genuine, r.n_impostor) == (10, 10)


def test_threshold_is_inclusive():
    r = error_rates(GENUINE, IMPOSTOR, 0.72)
    assert r.fmr == pytest.approx(1 / 10)  # impostor 0.72 >= 0.72 matches
    assert r.fnmr == pytest.approx(1 / 10)  # genuine 0.72 matches, 0.60 does not


def test_extreme_thresholds():
    assert error_rates(GENUINE, IMPOSTOR, -1.0).fmr == 1.0
    assert error_rates(GENUINE, IMPOSTOR, -1.0).fnmr == 0.0
    assert error_rates(GENUINE, IMPOSTOR, 1.01).fmr == 0.0
    assert error_rates(GENUINE, IMPOSTOR, 1.01).fnmr == 1.0


def test_threshold_for_fmr_hand_made():
    # 10 scores, target 0.1: one impostor may score >= t; the second highest (0.50) must not.
    t = threshold_for_fmr(IMPOSTOR, 0.1)
    assert 0.50 < t <= 0.72
    assert error_rates(GENUINE, IMPOSTOR, t).fmr <= 0.1
    assert error_rates(GENUINE, IMPOSTOR, 0.50).fmr > 0.1
    t0 = threshold_for_fmr(np.arange(100) / 100, 0.01)
    assert 0.98 < t0 <= 0.99  # exactly one of the 100 scores (0.99) is >= t0


def test_threshold_for_fmr_refuses_unresolvable_target():
    with pytest.raises(ValueError, match="needs at least 1000000"):
        threshold_for_fmr(IMPOSTOR, 1e-6)
    with pytest.raises(ValueError, match="target_fmr"):
        threshold_for_fmr(IMPOSTOR, 0)


def test_bad_score_lists_rejected():
    with pytest.raises(ValueError, match="genuine is empty"):
        error_rates([], IMPOSTOR, 0.5)
    with pytest.raises(ValueError, match="impostor contains NaN"):
        error_rates(GENUINE, [0.1, math.nan], 0.5)
    with pytest.raises(ValueError, match="threshold must be a finite number"):
        error_rates(GENUINE, IMPOSTOR, math.inf)


def test_tail_fmr_from_topk_counts_exactly_above_truncation():
    topk = np.array([[0.9, 0.5], [0.7, 0.4], [0.6, 0.3]])
    out = tail_fmr_from_topk(topk, gallery_size=100, thresholds=[0.65, 0.8, 0.45])
    assert out["truncation"] == 0.5
    np.testing.assert_allclose(out["fmr"][:2], [2 / 300, 1 / 300])
    assert math.isnan(out["fmr"][2])  # 0.45 is below the truncation: not resolvable


def test_identification_rates():
    r = identification_rates(
        true_ids=[1, 2, 3, -1, -1],
        top_ids=[1, 9, 3, 4, 5],
        top_scores=[0.9, 0.95, 0.5, 0.8, 0.2],
        threshold=0.75,
        enrolled=[True, True, True, False, False],
    )
    assert r["fnir"] == pytest.approx(2 / 3)  # wrong identity; right identity below threshold
    assert r["fpir"] == pytest.approx(1 / 2)
