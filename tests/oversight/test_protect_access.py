"""Small-cell protection (no cell of 1..10 recoverable by subtracting from a published
total) and the acting-user check."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from oversight_world import register_users

from securecomm.oversight.access import AccessError, acting_user, viewer
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


@pytest.mark.parametrize(
    ("name", "role", "message"),
    [
        ("", "crcl", "not a registered user|required|empty"),
        ("crcl\u200b1", "crcl", "U\\+200B"),
        ("j.smith", "crcl", "not a registered user"),
        ("panelist-1", "crcl", "role panel"),
        ("crcl-1", "admin", "role"),
        (None, "crcl", "required"),
    ],
)
def test_acting_user_refusals(db, name, role, message):
    register_users(db)
    with db.session() as s, pytest.raises(AccessError, match=message):
        acting_user(s, name, role=role)


def test_acting_user_and_viewer(db):
    register_users(db)
    with db.session() as s:
        assert acting_user(s, "CRCL-1", role="crcl") == "crcl-1"  # the registered spelling
        assert acting_user(s, "ero-1", role="ice") == "ero-1"
        assert viewer(s, "ero-1").role == "ice_officer"
