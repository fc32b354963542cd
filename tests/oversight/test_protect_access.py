"""Small-cell protection (no cell of 1..10 recoverable by subtracting from a published
total) and the acting-user check."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from securecomm.oversight.access import AccessError, acting_user, registry_available
from securecomm.oversight.protect import protect_counts


@given(st.dictionaries(st.sampled_from("abcdefg"), st.integers(0, 40), min_size=1))
def test_no_small_cell_recoverable_from_the_total(cells):
    total = sum(cells.values())
    shown = protect_counts(cells, 10, total=total)
    for key, v in cells.items():
        if 1 <= v <= 10:
            assert shown[key] is None
    if total == 0 or total > 10:  # the total is published: differencing
        hidden = [k for k, v in shown.items() if v is None]
        assert len(hidden) != 1, (cells, shown)
        if hidden:
            residual = total - sum(v for v in shown.values() if v is not None)
            assert residual == sum(cells[k] for k in hidden)


def test_published_cells_are_exact():
    assert protect_counts({"a": 50, "b": 0, "c": 12}, 10, total=62) == {"a": 50, "b": 0, "c": 12}
    assert protect_counts({"a": 50, "b": 3, "c": 12}, 10, total=65) == {
        "a": 50,
        "b": None,
        "c": None,
    }


@pytest.mark.parametrize("name", ["", "  ", "crcl\u200b1", "x" * 200, None])
def test_acting_user_refuses_bad_names(db, name):
    with db.session() as s, pytest.raises(AccessError, match="as"):
        acting_user(s, name, role="crcl")


def test_acting_user_role_must_be_known(db):
    with db.session() as s, pytest.raises(AccessError, match="role"):
        acting_user(s, "crcl-1", role="admin")
    if not registry_available():
        with db.session() as s:
            assert acting_user(s, "crcl-1", role="crcl") == "crcl-1"
        with db.session() as s, pytest.raises(AccessError, match="spaces"):
            acting_user(s, " crcl-1 ", role="crcl")
