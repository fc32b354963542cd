"""The benchmark's outcome generator: a valid Booking outcome v1 table, reproducible."""

from __future__ import annotations

import pyarrow.compute as pc

from securecomm.stats.monthly import monthly_statistics_table
from securecomm.stats.schema import BOOKING_OUTCOME_SCHEMA
from securecomm.stats.testing import generate_outcomes


def test_generated_outcomes_are_booking_outcome_v1_and_reproducible():
    t = generate_outcomes(5_000, seed=3, jurisdictions_n=40)
    assert t.schema.equals(BOOKING_OUTCOME_SCHEMA)
    assert t.equals(generate_outcomes(5_000, seed=3, jurisdictions_n=40))
    assert not t.equals(generate_outcomes(5_000, seed=4, jurisdictions_n=40))
    matched = t["ident_match"]
    # a case-level column is null exactly when there is no case
    assert pc.all(pc.equal(pc.is_null(t["protected"]), pc.invert(matched))).as_py()
    long = monthly_statistics_table(t)
    submissions = long.filter(pc.equal(long["measure"], "submissions"))
    assert pc.sum(submissions["count"]).as_py() == 5_000
