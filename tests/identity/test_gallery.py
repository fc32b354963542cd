from __future__ import annotations

import json

import numpy as np
import pytest

from securecomm.identity.gallery import (
    BiometricGallery,
    DecisionPolicy,
    GalleryError,
    GalleryFileError,
    IndexParams,
)

GALLERY_SIZE = 20_000  # as in conftest.py


def _probe_at(target: np.ndarray, cos: float, seed: int = 0) -> np.ndarray:
    """A unit vector with cosine ``cos`` to ``target`` (unit)."""
    rng = np.random.default_rng(seed)
    u = rng.standard_normal(target.shape[0])
    u -= u.dot(target) * target
    u /= np.linalg.norm(u)
    return (cos * target + np.sqrt(1 - cos**2) * u).astype(np.float32)


def test_genuine_probes_match_their_identity(model, gallery):
    ids = np.arange(0, 400, dtype=np.int64)
    probes = model.captures(ids, session=1)
    good = ~(probes.poor | model.captures(ids, session=0).poor)
    results = gallery.match(probes.vectors[good])
    matched = [r.identity_id for r in results if r.decision == "match"]
    assert len(matched) >= 0.99 * good.sum()
    assert all(
        r.identity_id == i
        for r, i in zip(results, probes.ids[good], strict=True)
        if r.decision == "match"
    )
    assert all(
        r.actionable and not r.requires_human_verification for r in results if r.decision == "match"
    )


def test_impostors_are_no_match(model, gallery):
    probes = model.captures(np.arange(10**6, 10**6 + 500, dtype=np.int64), session=1)
    results = gallery.match(probes.vectors)
    assert {r.decision for r in results} == {"no_match"}
    assert all(r.identity_id is None and not r.actionable for r in results)


@pytest.mark.parametrize(
    ("cos", "decision"), [(0.95, "match"), (0.76, "match"), (0.70, "verify"), (0.67, "verify")]
)
def test_band_scores_give_verify(enrolment, gallery, cos, decision):
    ids, vecs = enrolment
    target = vecs[123] / np.linalg.norm(vecs[123])
    [r] = gallery.match(_probe_at(target, cos))
    assert r.decision == decision
    assert r.identity_id == ids[123]
    assert r.score == pytest.approx(cos, abs=1e-4)
    if decision == "verify":
        assert r.requires_human_verification and not r.actionable
        assert r.candidates[0][0] == ids[123]


def test_two_identities_above_threshold_is_verify_not_match():
    rng = np.random.default_rng(3)
    v = rng.standard_normal((50, 64)).astype(np.float32)
    v[1] = v[0] + 0.01 * rng.standard_normal(64).astype(np.float32)  # near-twin templates
    g = BiometricGallery(64, IndexParams(kind="flat"))
    g.add(np.arange(100, 150), v)
    [r] = g.match(v[0])
    assert r.decision == "verify"
    assert "ambiguous" in r.reason
    assert {c[0] for c in r.candidates} >= {100, 101}


def test_policy_rejects_inverted_band():
    with pytest.raises(GalleryError, match="verification_band_low"):
        DecisionPolicy(match_threshold=0.6, verification_band_low=0.7)


def test_search_shapes_and_padding(enrolment):
    ids, vecs = enrolment
    g = BiometricGallery(64, IndexParams(kind="flat"))
    g.add(ids[:3], vecs[:3])
    out_ids, scores = g.search(vecs[:2], k=5)
    assert out_ids.shape == scores.shape == (2, 5)
    assert out_ids.dtype == np.int64
    assert list(out_ids[0, :1]) == [ids[0]]
    assert (out_ids[:, 3:] == -1).all() and np.isneginf(scores[:, 3:]).all()


def test_empty_gallery_search_and_match():
    g = BiometricGallery(64, IndexParams(kind="ivf_flat", nlist=8))
    ids, scores = g.search(np.ones((2, 64)), k=3)
    assert (ids == -1).all() and np.isneginf(scores).all()
    assert [r.decision for r in g.match(np.ones(64))] == ["no_match"]


def test_save_load_round_trip_gives_identical_results(tmp_path, model, gallery):
    probes = model.captures(np.arange(0, 300, dtype=np.int64), session=1).vectors
    path = tmp_path / "ident.faiss"
    side = gallery.save(path)
    assert side.name == "ident.faiss.json"
    meta = json.loads(side.read_text())
    assert meta["count"] == GALLERY_SIZE and meta["dim"] == 64 and meta["metric"] == "inner_product"
    loaded = BiometricGallery.load(path)
    a_ids, a_sc = gallery.search(probes, 5)
    b_ids, b_sc = loaded.search(probes, 5)
    np.testing.assert_array_equal(a_ids, b_ids)
    np.testing.assert_array_equal(a_sc, b_sc)
    assert loaded.params == gallery.params and loaded.policy == gallery.policy
    assert loaded.contains([0, GALLERY_SIZE - 1, GALLERY_SIZE]).tolist() == [True, True, False]
    with pytest.raises(GalleryError, match="already enrolled"):
        loaded.add([5], probes[:1])


@pytest.mark.parametrize("kind", ["flat", "hnsw_flat"])
def test_save_load_other_kinds(tmp_path, enrolment, kind):
    ids, vecs = enrolment
    g = BiometricGallery(64, IndexParams(kind=kind, ef_search=32))
    g.add(ids[:3000], vecs[:3000])
    g.save(tmp_path / "g.faiss")
    h = BiometricGallery.load(tmp_path / "g.faiss")
    np.testing.assert_array_equal(g.search(vecs[:50], 3)[0], h.search(vecs[:50], 3)[0])
    assert h.search(vecs[:50], 1)[0][:, 0].tolist() == ids[:50].tolist()


@pytest.fixture()
def saved(tmp_path, enrolment):
    ids, vecs = enrolment
    g = BiometricGallery(64, IndexParams(kind="ivf_flat", nlist=16, nprobe=4))
    g.train(vecs[:2000])
    g.add(ids[:2000], vecs[:2000])
    path = tmp_path / "g.faiss"
    g.save(path)
    return path


def _edit_sidecar(path, **changes):
    side = path.with_name(path.name + ".json")
    meta = json.loads(side.read_text())
    meta.update(changes)
    side.write_text(json.dumps(meta))


def test_load_rejects_corrupted_sidecar(saved):
    saved.with_name(saved.name + ".json").write_text("{not json")
    with pytest.raises(GalleryFileError, match="not valid JSON"):
        BiometricGallery.load(saved)


def test_load_rejects_missing_sidecar(saved):
    saved.with_name(saved.name + ".json").unlink()
    with pytest.raises(GalleryFileError, match="sidecar not found"):
        BiometricGallery.load(saved)


def test_load_rejects_wrong_dimension(saved):
    _edit_sidecar(saved, dim=128)
    with pytest.raises(GalleryFileError, match=r"dimension 64 != sidecar dim 128"):
        BiometricGallery.load(saved)


def test_load_rejects_wrong_count_and_params(saved):
    _edit_sidecar(saved, count=5)
    with pytest.raises(GalleryFileError, match="count 2000 != sidecar count 5"):
        BiometricGallery.load(saved)
    _edit_sidecar(
        saved,
        count=2000,
        params={
            **json.loads(saved.with_name(saved.name + ".json").read_text())["params"],
            "nlist": 32,
        },
        index_type="IVF32,Flat",
    )
    with pytest.raises(GalleryFileError, match="index structure"):
        BiometricGallery.load(saved)


def test_load_rejects_modified_index_file(saved):
    data = bytearray(saved.read_bytes())
    data[-10] ^= 0xFF
    saved.write_bytes(bytes(data))
    with pytest.raises(GalleryFileError, match="sha256"):
        BiometricGallery.load(saved)


def test_rebuild_from_chunks_equals_incremental_add(model, enrolment):
    ids, vecs = enrolment
    ids, vecs = ids[:8000], vecs[:8000]
    params = IndexParams(kind="ivf_flat", nlist=32, nprobe=8, train_size=3000)
    chunks = [(ids[i : i + 1000], vecs[i : i + 1000]) for i in range(0, 8000, 1000)]
    rebuilt = BiometricGallery(64, params).rebuild(iter(chunks))
    incremental = BiometricGallery(64, params)
    incremental.train(vecs[:3000])
    for ci, cv in chunks:
        incremental.add(ci, cv)
    assert rebuilt.count == incremental.count == 8000
    probes = model.captures(np.arange(0, 8000, 37, dtype=np.int64), session=1).vectors
    r_ids, r_sc = rebuilt.search(probes, 4)
    i_ids, i_sc = incremental.search(probes, 4)
    np.testing.assert_array_equal(r_ids, i_ids)
    np.testing.assert_allclose(r_sc, i_sc, rtol=0, atol=1e-6)


def test_rebuild_failure_leaves_gallery_unchanged(enrolment):
    ids, vecs = enrolment
    g = BiometricGallery(64, IndexParams(kind="flat"))
    g.add(ids[:10], vecs[:10])
    bad = [(ids[:5], vecs[:5]), (ids[3:8], vecs[3:8])]  # identity keys 3, 4 repeat
    with pytest.raises(GalleryError, match=r"chunks repeat identity key\(s\) \[3, 4\]"):
        g.rebuild(bad)
    assert g.count == 10
    with pytest.raises(GalleryError, match=r"chunks\[0\] must be an \(ids, vectors\) pair"):
        g.rebuild([ids[:5]])


def test_add_to_untrained_ivf_is_refused(enrolment):
    ids, vecs = enrolment
    g = BiometricGallery(64, IndexParams(kind="ivf_flat", nlist=16))
    with pytest.raises(GalleryError, match="untrained"):
        g.add(ids[:100], vecs[:100])
    with pytest.raises(GalleryError, match="nlist=16"):
        g.train(vecs[:10])


good = np.ones((2, 64), dtype=np.float32)


@pytest.mark.parametrize(
    ("vectors", "message"),
    [
        (np.full((2, 64), np.nan), r"vectors contains NaN or infinite values in row\(s\) 0, 1"),
        (
            np.vstack([np.ones(64), np.r_[np.inf, np.ones(63)]]),
            r"NaN or infinite values in row\(s\) 1",
        ),
        (np.ones((2, 32)), "vectors has dimension 32, but the gallery's dimension is 64"),
        (np.empty((0, 64)), "vectors is empty"),
        (np.vstack([np.ones(64), np.zeros(64)]), r"vectors has zero-norm templates in row\(s\) 1"),
        (np.array([["a"] * 64]), "vectors must be numeric"),
        (np.ones((2, 2, 64)), r"vectors must have shape \(n, 64\)"),
        (None, "vectors is None"),
        (np.full((1, 64), 1e300), "NaN or infinite"),
    ],
)
def test_hostile_vectors_rejected_naming_the_argument(vectors, message):
    g = BiometricGallery(64, IndexParams(kind="flat"))
    with pytest.raises(GalleryError, match=message):
        g.add(np.arange(len(vectors)) if vectors is not None and np.ndim(vectors) else [0], vectors)
    with pytest.raises(GalleryError, match=message):
        g.search(vectors, 1)
    assert g.count == 0


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        ([1], "ids has 1 entries but vectors has 2 rows"),
        ([1, 1], r"ids repeats identity key\(s\) \[1\]"),
        ([-1, 2], "ids must be non-negative"),
        ([1.5, 2.0], "ids must be integers"),
        (["a", "b"], "ids must be integers"),
        ([[1, 2]], "ids must be one-dimensional"),
        (None, "ids is None"),
    ],
)
def test_hostile_ids_rejected(ids, message):
    g = BiometricGallery(64, IndexParams(kind="flat"))
    with pytest.raises(GalleryError, match=message):
        g.add(ids, good)


@pytest.mark.parametrize("k", [0, -1, 1.5, True, 5000])
def test_bad_k_rejected(k):
    g = BiometricGallery(64, IndexParams(kind="flat"))
    with pytest.raises(GalleryError, match="k must be an integer"):
        g.search(good, k)


def test_bad_parameters_rejected():
    with pytest.raises(GalleryError, match=r"params.kind"):
        IndexParams(kind="lsh")  # type: ignore[arg-type]
    with pytest.raises(GalleryError, match=r"params.nprobe"):
        IndexParams(nprobe=0)
    with pytest.raises(GalleryError, match="dim must be"):
        BiometricGallery(0)
    with pytest.raises(GalleryError, match=r"policy\.match_threshold"):
        DecisionPolicy(match_threshold=float("nan"))


def test_vectors_are_normalised_so_scores_are_cosines(enrolment):
    ids, vecs = enrolment
    g = BiometricGallery(64, IndexParams(kind="flat"))
    g.add(ids[:100], vecs[:100] * 37.0)
    _, scores = g.search(vecs[:5] * 0.01, 1)
    np.testing.assert_allclose(scores[:, 0], 1.0, atol=1e-5)


def test_for_gallery_size_choice():
    assert IndexParams.for_gallery_size(1000).kind == "flat"
    assert IndexParams.for_gallery_size(10_000_000).kind != "flat"


# ---- the multi-table IVF-PQ fast-scan kind (the production choice) --------------------------
PQFS = IndexParams(kind="ivf_pqfs", nlist=32, nprobe=4, tables=3, pq_m=16, train_size=3000)


@pytest.fixture(scope="module")
def pqfs_gallery(enrolment):
    ids, vecs = enrolment
    g = BiometricGallery(64, PQFS)
    g.rebuild([(ids[i : i + 5000], vecs[i : i + 5000]) for i in range(0, 10_000, 5000)])
    return g


def test_pqfs_scores_are_exact_and_genuine_probes_match(model, enrolment, pqfs_gallery):
    _ids, vecs = enrolment
    probe_ids = np.arange(0, 10_000, 50, dtype=np.int64)
    probes = model.captures(probe_ids, session=1)
    got_ids, got_sc = pqfs_gallery.search(probes.vectors, 3)
    good = ~(probes.poor | model.captures(probe_ids, session=0).poor)
    assert (got_ids[good, 0] == probe_ids[good]).mean() >= 0.98
    # re-ranked scores are the exact cosine with the enrolled template
    exact = np.einsum("ij,ij->i", vecs[got_ids[:, 0]], probes.vectors)
    np.testing.assert_allclose(got_sc[:, 0], exact, atol=1e-5)
    assert (np.diff(got_sc, axis=1) <= 0).all()
    assert all(len(set(row)) == 3 for row in got_ids.tolist())  # no identity twice


def test_pqfs_save_load_round_trip(tmp_path, model, pqfs_gallery):
    path = tmp_path / "pq.faiss"
    side = pqfs_gallery.save(path)
    meta = json.loads(side.read_text())
    assert [f["file"] for f in meta["files"]] == [
        "pq.faiss",
        "pq.faiss.part1",
        "pq.faiss.part2",
        "pq.faiss.part3",
    ]
    loaded = BiometricGallery.load(path)
    probes = model.captures(np.arange(0, 10_000, 97, dtype=np.int64), session=1).vectors
    a = pqfs_gallery.search(probes, 4)
    b = loaded.search(probes, 4)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    part = tmp_path / "pq.faiss.part2"
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0x01
    part.write_bytes(bytes(data))
    with pytest.raises(
        GalleryFileError, match=r"pq.faiss.part2 does not match its sidecar: sha256"
    ):
        BiometricGallery.load(path)


def test_pqfs_rebuild_equals_incremental_add(model, enrolment):
    ids, vecs = enrolment
    params = IndexParams(kind="ivf_pqfs", nlist=16, nprobe=4, tables=2, pq_m=8, train_size=1000)
    chunks = [(ids[i : i + 500], vecs[i : i + 500]) for i in range(0, 3000, 500)]
    rebuilt = BiometricGallery(64, params).rebuild(chunks)
    incremental = BiometricGallery(64, params)
    incremental.train(vecs[:1000])
    for ci, cv in chunks:
        incremental.add(ci, cv)
    probes = model.captures(np.arange(0, 3000, 23, dtype=np.int64), session=1).vectors
    np.testing.assert_array_equal(rebuilt.search(probes, 3)[0], incremental.search(probes, 3)[0])
