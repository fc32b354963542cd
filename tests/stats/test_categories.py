"""charge_category and conviction_status (stats/categories.py): one definition, two compilers."""

from __future__ import annotations

import itertools

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from securecomm.bulk.testing import charges as charge_strategy
from securecomm.law.flatten import OFFENSE_FIELDS, arrow_schema, fold_literal
from securecomm.law.packs import PACKS, VariantError
from securecomm.stats.categories import (
    NO_CHARGE_CATEGORY,
    add_category_columns,
    charge_category_of,
    charge_category_rank,
    conviction_status_expr,
    conviction_status_of,
)
from securecomm.stats.schema import CHARGE_CATEGORIES, CONVICTION_STATUSES

OFFENSE_TYPE = arrow_schema().field("charges").type


def charge(ncic: str, literal: str, severity: str, **extra) -> dict:
    return {"ncic": ncic, "literal": literal, "severity": severity, **extra}


SPEEDING = charge("5499", "SPEEDING", "infraction")
NO_LICENSE = charge("5499", "DRIVING WITHOUT A LICENSE", "misdemeanor")
LOITERING = charge("7399", "LOITERING", "misdemeanor")
TRESPASS = charge("5707", "TRESPASSING", "misdemeanor")
DUI = charge("5403", "DUI", "misdemeanor")
RECKLESS_INJURY = charge("5499", "RECKLESS DRIVING", "misdemeanor", injury=True)
ASSAULT = charge("1313", "SIMPLE ASSAULT", "misdemeanor")
NO_SEVERITY_THEFT = charge("2399", "PETTY THEFT", "infraction")
BURGLARY_FELONY = charge("2202", "BURGLARY", "felony")
DUI_FELONY = charge("5403", "DUI", "felony")


@pytest.mark.parametrize(
    ("charges", "expected"),
    [
        ([SPEEDING], "minor_traffic"),
        ([SPEEDING, NO_LICENSE], "minor_traffic"),
        ([LOITERING], "other_minor_misdemeanor"),
        ([SPEEDING, TRESPASS], "other_minor_misdemeanor"),
        ([DUI], "serious_traffic"),
        ([RECKLESS_INJURY, LOITERING], "serious_traffic"),
        ([ASSAULT, DUI], "other_misdemeanor"),
        ([NO_SEVERITY_THEFT], "other_misdemeanor"),
        ([SPEEDING, BURGLARY_FELONY], "felony"),
        ([DUI_FELONY], "felony"),
        ([], NO_CHARGE_CATEGORY),
    ],
)
def test_charge_category_examples(charges, expected) -> None:
    assert charge_category_of(charges) == expected
    assert charge_category_of(list(reversed(charges))) == expected


def test_minor_misdemeanor_list_is_a_pack_parameter() -> None:
    # a variant-like pack with another list would change the category; the packs share it
    for name in PACKS:
        assert charge_category_of([LOITERING], policy=name) == "other_minor_misdemeanor"
    with pytest.raises(VariantError, match="no-such-pack"):
        charge_category_of([LOITERING], policy="no-such-pack")


def test_rank_orders_the_schema_categories() -> None:
    assert [charge_category_rank(c) for c in CHARGE_CATEGORIES] == list(range(5))
    with pytest.raises(ValueError, match="'misdemeanour'"):
        charge_category_rank("misdemeanour")


def test_booking_takes_the_most_serious_charge() -> None:
    singles = [SPEEDING, LOITERING, DUI, ASSAULT, BURGLARY_FELONY]
    for pair in itertools.product(singles, repeat=2):
        ranks = [charge_category_rank(charge_category_of([c])) for c in pair]
        assert charge_category_of(list(pair)) == CHARGE_CATEGORIES[max(ranks)]


def _flat(charges: list[dict]) -> list[dict]:
    return [{name: c.get(name) for name in OFFENSE_FIELDS} for c in charges]


def _table(rows: list[list[dict] | None]) -> pa.Table:
    return pa.table(
        {
            "case_id": [f"c{i}" for i in range(len(rows))],
            "charges": pa.array([None if r is None else _flat(r) for r in rows], OFFENSE_TYPE),
        }
    )


def test_bulk_validates_the_charges_column(duck) -> None:
    bad = duck.create_table("bad_charges", pa.table({"charges": ["x"]}), overwrite=True)
    with pytest.raises(ValueError, match="'charges' must be list<struct>"):
        add_category_columns(bad)
    with pytest.raises(ValueError, match="no column 'charges'"):
        add_category_columns(bad.rename(other="charges"))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.lists(charge_strategy(), max_size=4), min_size=1, max_size=25),
    policy=st.sampled_from(sorted(PACKS)),
)
def test_python_equals_bulk_row_by_row(duck, rows, policy) -> None:
    rows = [[{**c, "literal": fold_literal(c["literal"])} for c in r] for r in rows]
    table = duck.create_table("cat_rows", _table(rows), overwrite=True)
    got = add_category_columns(table, policy).order_by("case_id").to_pyarrow()
    by_id = dict(zip(got["case_id"].to_pylist(), got["charge_category"].to_pylist(), strict=True))
    for i, r in enumerate(rows):
        assert by_id[f"c{i}"] == charge_category_of(r, policy), r


def test_null_charge_list_is_no_charge(duck) -> None:
    table = duck.create_table("cat_null", _table([None, [SPEEDING]]), overwrite=True)
    got = add_category_columns(table).order_by("case_id").to_pyarrow()
    assert got["charge_category"].to_pylist() == [NO_CHARGE_CATEGORY, "minor_traffic"]


@pytest.mark.parametrize(
    ("conviction", "record", "expected"),
    [(True, True, "convicted"), (True, False, "convicted"), (False, True, "charged_only"),
     (False, False, "no_criminal_history")],
)  # fmt: skip
def test_conviction_status(duck, conviction, record, expected) -> None:
    assert conviction_status_of(conviction, record) == expected
    assert expected in CONVICTION_STATUSES
    t = duck.create_table(
        "conv", pa.table({"c": [conviction, None], "r": [record, None]}), overwrite=True
    )
    got = t.select(s=conviction_status_expr(t.c, t.r)).to_pyarrow()["s"].to_pylist()
    assert got == [expected, "no_criminal_history"]
