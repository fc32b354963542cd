"""Small-cell protection for the oversight tables (HSAC Task Force report I rec. 4 and
II rec. 4: public statistics; IV rec. 4: a confidential complaint process).

Pure. A count from 1 to ``k`` is suppressed (None). Where the table's total is published, one
suppressed cell could be recovered by subtraction, so a second (complementary) cell is
suppressed too: the smallest published non-zero one. Zeros stay (a zero discloses nobody).
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["protect_counts", "protect_value"]


def protect_value(count: int, k: int) -> int | None:
    return None if 1 <= count <= k else count


def protect_counts(
    cells: Mapping[str, int], k: int, *, total: int | None = None
) -> dict[str, int | None]:
    """``cells`` with counts 1..k suppressed; with ``total`` (published when 0 or > k), a
    complementary suppression so no suppressed cell equals the total minus published cells."""
    out: dict[str, int | None] = {key: protect_value(v, k) for key, v in cells.items()}
    total_published = total is not None and (total == 0 or total > k)
    suppressed = [key for key, v in out.items() if v is None]
    if total_published and len(suppressed) == 1:
        candidates = sorted((v, key) for key, v in out.items() if v)
        if candidates:  # always true when total > k (the suppressed cell is <= k)
            out[candidates[0][1]] = None
    return out
