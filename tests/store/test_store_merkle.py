"""RFC 6962 Merkle tree: the module against a naive transcription of RFC 6962 section 2.1."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from securecomm.store import merkle


# ---- naive reference: the recursive definitions of RFC 6962 2.1, over the data itself ----
def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def naive_mth(data: list[bytes]) -> bytes:
    n = len(data)
    if n == 0:
        return _h(b"")
    if n == 1:
        return _h(b"\x00" + data[0])
    k = _k(n)
    return _h(b"\x01" + naive_mth(data[:k]) + naive_mth(data[k:]))


def naive_path(m: int, data: list[bytes]) -> list[bytes]:
    n = len(data)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*naive_path(m, data[:k]), naive_mth(data[k:])]
    return [*naive_path(m - k, data[k:]), naive_mth(data[:k])]


def naive_subproof(m: int, data: list[bytes], complete: bool) -> list[bytes]:
    n = len(data)
    if m == n:
        return [] if complete else [naive_mth(data)]
    k = _k(n)
    if m <= k:
        return [*naive_subproof(m, data[:k], complete), naive_mth(data[k:])]
    return [*naive_subproof(m - k, data[k:], False), naive_mth(data[:k])]


def naive_proof(m: int, data: list[bytes]) -> list[bytes]:
    return naive_subproof(m, data, True) if 0 < m < len(data) else []


datas = st.lists(st.binary(min_size=0, max_size=8), min_size=0, max_size=70)
nonempty = st.lists(st.binary(min_size=0, max_size=8), min_size=1, max_size=70)


def leaves(data: list[bytes]) -> list[bytes]:
    return [merkle.leaf_hash(d) for d in data]


def test_known_vectors():
    assert merkle.root([]) == hashlib.sha256(b"").digest()
    a = merkle.leaf_hash(b"a")
    assert a == hashlib.sha256(b"\x00a").digest()
    b, c = merkle.leaf_hash(b"b"), merkle.leaf_hash(b"c")
    ab = hashlib.sha256(b"\x01" + a + b).digest()
    # three leaves: split at 2 -> H(H(a,b), c)
    assert merkle.root([a, b, c]) == hashlib.sha256(b"\x01" + ab + c).digest()


@settings(max_examples=150, deadline=None)
@given(datas)
def test_root_and_compact_range_match_naive(data):
    compact = merkle.CompactRange()
    for i, leaf in enumerate(leaves(data)):
        compact.append(leaf)
        assert compact.root() == naive_mth(data[: i + 1])
    assert merkle.root(leaves(data)) == naive_mth(data)


@settings(max_examples=150, deadline=None)
@given(nonempty, st.data())
def test_inclusion_proofs_match_naive_and_verify(data, draw):
    ls = leaves(data)
    root = naive_mth(data)
    index = draw.draw(st.integers(0, len(data) - 1))
    proof = merkle.inclusion_proof(ls, index)
    assert proof == naive_path(index, data)
    assert merkle.verify_inclusion(ls[index], index, len(ls), proof, root)
    # wrong leaf, index, size, root or a damaged path all fail
    assert not merkle.verify_inclusion(
        merkle.leaf_hash(b"other" + data[index]), index, len(ls), proof, root
    )
    assert not merkle.verify_inclusion(ls[index], index, len(ls), proof, _h(root))
    assert not merkle.verify_inclusion(ls[index], len(ls), len(ls), proof, root)
    if proof:
        bad = [*proof]
        bad[draw.draw(st.integers(0, len(bad) - 1))] = _h(b"x")
        assert not merkle.verify_inclusion(ls[index], index, len(ls), bad, root)
        assert not merkle.verify_inclusion(ls[index], index, len(ls), proof[:-1], root)
    assert not merkle.verify_inclusion(ls[index], index, len(ls), [*proof, _h(b"x")], root)
    if len(set(ls)) == len(ls):
        for other in range(len(ls)):
            if other != index:
                assert not merkle.verify_inclusion(ls[index], other, len(ls), proof, root)


@settings(max_examples=150, deadline=None)
@given(nonempty, st.data())
def test_consistency_proofs_match_naive_and_verify(data, draw):
    ls = leaves(data)
    n = len(ls)
    m = draw.draw(st.integers(0, n))
    proof = merkle.consistency_proof(ls, m)
    assert proof == naive_proof(m, data)
    old_root, new_root = naive_mth(data[:m]), naive_mth(data)
    assert merkle.verify_consistency(m, n, old_root, new_root, proof)
    if 0 < m < n:
        assert not merkle.verify_consistency(m, n, _h(old_root), new_root, proof)
        assert not merkle.verify_consistency(m, n, old_root, _h(new_root), proof)
        if proof:
            bad = [*proof]
            bad[draw.draw(st.integers(0, len(bad) - 1))] = _h(b"x")
            assert not merkle.verify_consistency(m, n, old_root, new_root, bad)
        # a rewritten prefix is not consistent with the old root
        changed = [b"changed", *data[1:]]
        assert not merkle.verify_consistency(
            m, n, old_root, naive_mth(changed), merkle.consistency_proof(leaves(changed), m)
        )


def test_bad_arguments():
    ls = leaves([b"a", b"b"])
    with pytest.raises(IndexError):
        merkle.inclusion_proof(ls, 2)
    with pytest.raises(IndexError):
        merkle.consistency_proof(ls, 3)
    assert not merkle.verify_inclusion(ls[0], 0, 0, [], merkle.EMPTY_ROOT)
    assert not merkle.verify_consistency(3, 2, b"", b"", [])
    assert merkle.verify_consistency(0, 2, merkle.EMPTY_ROOT, merkle.root(ls), [])
