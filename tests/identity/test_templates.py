from __future__ import annotations

import numpy as np
import pytest

from securecomm.identity.templates import TemplateModel, similarity_profile, usable_template


def test_seeded_and_independent_of_chunking():
    m = TemplateModel(seed=3)
    whole = m.captures(np.arange(0, 10_000), session=1)
    parts = list(m.iter_captures(0, 10_000, session=1, chunk_size=3_333))
    np.testing.assert_array_equal(whole.vectors, np.concatenate([p.vectors for p in parts]))
    np.testing.assert_array_equal(whole.quality, np.concatenate([p.quality for p in parts]))
    again = TemplateModel(seed=3).captures(np.array([9_999, 5, 4_100]), session=1)
    np.testing.assert_array_equal(again.vectors, whole.vectors[[9_999, 5, 4_100]])
    other = TemplateModel(seed=4).captures(np.arange(0, 5), session=1)
    assert not np.allclose(other.vectors, whole.vectors[:5])


def test_captures_are_unit_float32_and_sessions_differ():
    m = TemplateModel()
    a = m.captures(np.arange(100), 0)
    b = m.captures(np.arange(100), 1)
    assert a.vectors.dtype == np.float32 and a.vectors.shape == (100, 64)
    np.testing.assert_allclose(np.linalg.norm(a.vectors, axis=1), 1.0, atol=1e-5)
    assert not np.array_equal(a.vectors, b.vectors)


def test_calibration_genuine_and_impostor_ranges():
    p = similarity_profile(TemplateModel(seed=11), n=20_000)
    good = p["genuine_good"]
    assert good["p5"] >= 0.84 and good["p95"] <= 0.985 and 0.9 <= good["p50"] <= 0.96
    imp = p["impostor"]
    assert abs(imp["mean"]) < 0.01 and 0.11 < imp["std"] < 0.15
    assert p["genuine_poor"]["p50"] < 0.8
    assert p["quality_good"]["p50"] > 80 and p["quality_poor"]["p50"] < 45


def test_poor_rate_and_quality_flag():
    m = TemplateModel(poor_rate=0.2, seed=1)
    c = m.captures(np.arange(20_000), 0)
    assert 0.18 < c.poor.mean() < 0.22
    usable = usable_template(c.quality)
    assert usable[~c.poor].mean() > 0.99 and usable[c.poor].mean() < 0.35


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"dim": 1}, "dim"), ({"sigma": 0}, "sigma"), ({"poor_rate": 1.5}, "poor_rate")],
)
def test_bad_model_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TemplateModel(**kwargs)


def test_bad_ids():
    m = TemplateModel()
    with pytest.raises(ValueError, match="non-negative"):
        m.captures(np.array([-1]))
    with pytest.raises(ValueError, match="one-dimensional"):
        m.captures(np.zeros((2, 2), dtype=np.int64))
