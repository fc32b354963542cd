"""RFC 6962 (Certificate Transparency) Merkle tree: roots, inclusion and consistency proofs.

Pure functions over *leaf hashes*: a leaf hash is ``sha256(0x00 || data)``
(:func:`leaf_hash`), an interior node ``sha256(0x01 || left || right)`` (:func:`node_hash`).
For ``n`` leaves the tree splits at ``k``, the largest power of two smaller than ``n``
(RFC 6962 section 2.1); the root of the empty tree is ``sha256(b"")``.

* :func:`root` -- the tree head of a list of leaf hashes; :class:`CompactRange` computes the
  same incrementally in O(log n) memory (used to recompute checkpoints in one pass).
* :func:`inclusion_proof` / :func:`verify_inclusion` -- RFC 6962 2.1.1 / RFC 9162 2.1.3.2.
* :func:`consistency_proof` / :func:`verify_consistency` -- RFC 6962 2.1.2 / RFC 9162 2.1.4.2.

The verifiers never raise on a malformed proof; they return False.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

__all__ = [
    "EMPTY_ROOT",
    "CompactRange",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root",
    "verify_consistency",
    "verify_inclusion",
]

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """``sha256(0x00 || data)``."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``sha256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


class CompactRange:
    """The roots of the perfect subtrees covering the leaves appended so far (one per set bit
    of ``size``, largest first). Appending is amortised O(1); :meth:`root` is O(log n).
    """

    __slots__ = ("_peaks", "size")

    def __init__(self) -> None:
        self._peaks: list[bytes] = []
        self.size = 0

    def append(self, leaf: bytes) -> None:
        """Append one *leaf hash*."""
        node = leaf
        size = self.size
        while size & 1:  # merge equal-sized perfect subtrees, like a binary carry
            node = node_hash(self._peaks.pop(), node)
            size >>= 1
        self._peaks.append(node)
        self.size += 1

    @classmethod
    def from_peaks(cls, size: int, peaks: Sequence[bytes]) -> CompactRange:
        """A compact range restored from :attr:`peaks` (one per set bit of ``size``)."""
        if size < 0 or len(peaks) != bin(size).count("1"):
            raise ValueError(f"{len(peaks)} peaks do not describe a tree of {size} leaves")
        if any(len(p) != 32 for p in peaks):
            raise ValueError("a peak is a 32-byte hash")
        compact = cls()
        compact._peaks = list(peaks)
        compact.size = size
        return compact

    @property
    def peaks(self) -> tuple[bytes, ...]:
        """The perfect subtrees' roots, largest first (what :meth:`from_peaks` takes)."""
        return tuple(self._peaks)

    def root(self) -> bytes:
        """The RFC 6962 root of the leaves so far: the peaks folded from the right."""
        if not self._peaks:
            return EMPTY_ROOT
        node = self._peaks[-1]
        for peak in reversed(self._peaks[:-1]):
            node = node_hash(peak, node)
        return node


def root(leaves: Sequence[bytes]) -> bytes:
    """The RFC 6962 Merkle tree hash of ``leaves`` (leaf hashes)."""
    compact = CompactRange()
    for leaf in leaves:
        compact.append(leaf)
    return compact.root()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def _levels(leaves: Sequence[bytes]) -> list[list[bytes]]:
    """The tree level by level; an unpaired last node is carried up unchanged, which gives
    exactly the RFC 6962 shape."""
    levels = [list(leaves)]
    while len(levels[-1]) > 1:
        below = levels[-1]
        above = [node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
        if len(below) % 2:
            above.append(below[-1])
        levels.append(above)
    return levels


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of ``leaves``, bottom up."""
    if not 0 <= index < len(leaves):
        raise IndexError(f"leaf index {index} outside a tree of size {len(leaves)}")
    proof = []
    for level in _levels(leaves)[:-1]:
        sibling = index ^ 1
        if sibling < len(level):
            proof.append(level[sibling])
        index >>= 1
    return proof


def verify_inclusion(
    leaf: bytes, index: int, tree_size: int, proof: Sequence[bytes], expected_root: bytes
) -> bool:
    """True when ``proof`` shows leaf hash ``leaf`` at ``index`` in the tree of ``tree_size``
    leaves whose root is ``expected_root`` (RFC 9162 2.1.3.2)."""
    if not 0 <= index < tree_size:
        return False
    fn, sn, node = index, tree_size - 1, leaf
    for sibling in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            node = node_hash(sibling, node)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            node = node_hash(node, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and node == expected_root


def consistency_proof(leaves: Sequence[bytes], old_size: int) -> list[bytes]:
    """Proof that the tree of the first ``old_size`` leaves is a prefix of the tree of all
    ``leaves`` (RFC 6962 2.1.2). Empty when ``old_size`` is 0 or the whole tree."""
    n = len(leaves)
    if not 0 <= old_size <= n:
        raise IndexError(f"old size {old_size} outside 0..{n}")
    if old_size in (0, n):
        return []
    memo: dict[tuple[int, int], bytes] = {}

    def mth(lo: int, hi: int) -> bytes:
        key = (lo, hi)
        if key not in memo:
            if hi - lo == 1:
                memo[key] = leaves[lo]
            else:
                k = _split(hi - lo)
                memo[key] = node_hash(mth(lo, lo + k), mth(lo + k, hi))
        return memo[key]

    def subproof(m: int, lo: int, hi: int, complete: bool) -> list[bytes]:
        n_ = hi - lo
        if m == n_:
            return [] if complete else [mth(lo, hi)]
        k = _split(n_)
        if m <= k:
            return [*subproof(m, lo, lo + k, complete), mth(lo + k, hi)]
        return [*subproof(m - k, lo + k, hi, False), mth(lo, lo + k)]

    return subproof(old_size, 0, n, True)


def verify_consistency(
    old_size: int,
    new_size: int,
    old_root: bytes,
    new_root: bytes,
    proof: Sequence[bytes],
) -> bool:
    """True when ``proof`` shows the tree (``old_size``, ``old_root``) is a prefix of the tree
    (``new_size``, ``new_root``) (RFC 9162 2.1.4.2; an empty old tree is a prefix of any)."""
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is itself a node
        path.insert(0, old_root)
    if not path:
        return False
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0
