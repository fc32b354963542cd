"""Shared constants and helpers of the pipeline tests (imported by name: tests are not a package)."""

from __future__ import annotations

import datetime as dt

#: The processing time the tests' worker clock reports.
T_NOW = dt.datetime(2012, 10, 15, 12, 0, tzinfo=dt.UTC)


def usable(truth: dict) -> bool:
    """The booking carried a template of usable quality (ground truth)."""
    return bool(truth["template"]) and truth["quality"] is not None and truth["quality"] >= 40


#: The people the pipeline tests act as (``--as USER``): registered users, as a deployment's
#: administrator would register them. Supervisors may also decide as officers.
TEST_OFFICERS = (
    "officer.ortiz", "o1", "o.ruiz", "ofc-1", "examiner.diaz", "o.lee", "o.prop",
    "officer-sim", "examiner.c", "officer.a",
)  # fmt: skip
TEST_SUPERVISORS = ("officer.lee", "supervisor.kim", "s.chen", "s.prop", "supervisor.b", "s")


def register_test_users(session) -> None:
    """Register :data:`TEST_OFFICERS` (ice_officer) and :data:`TEST_SUPERVISORS`
    (ice_supervisor) in one ICE area, in the caller's transaction."""
    from securecomm.users.service import add_user

    for name in TEST_OFFICERS:
        add_user(session, name, "ice_officer", areas=["DAL"], actor="admin-cli")
    for name in TEST_SUPERVISORS:
        add_user(session, name, "ice_supervisor", areas=["DAL"], actor="admin-cli")
