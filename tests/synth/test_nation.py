"""The synthetic nation: reproducible, valid Case v1 rows, the documented columns."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from synth_helpers import SMALL_SPEC, case_from_row

from securecomm.bulk.caseload import check_caseload_schema
from securecomm.law.flatten import arrow_schema, flatten_case
from securecomm.law.schema import Case
from securecomm.stats.categories import charge_category_of, conviction_status_of
from securecomm.stats.schema import CHARGE_CATEGORIES, CONVICTION_STATUSES, STATUS_CATEGORIES
from securecomm.synth.nation import (
    EXTRA_COLUMNS,
    NationSpec,
    generate_nation,
    nation_schema,
)
from securecomm.synth.params import TRUE_STATUSES

TINY = NationSpec(seed=3, sample_fraction=0.0004, start=dt.date(2011, 1, 1),
                  end=dt.date(2011, 3, 31), scale="custom")  # fmt: skip


def test_same_seed_same_nation_and_other_seed_differs(nation_params):
    a = generate_nation(TINY, params=nation_params)
    b = generate_nation(TINY, params=nation_params)
    assert a.num_rows > 500
    assert a.equals(b)
    c = generate_nation(NationSpec(**{**TINY.__dict__, "seed": 4}), params=nation_params)
    assert not a.equals(c)


def test_columns_are_the_flat_caseload_then_the_documented_extras(small_nation):
    schema = small_nation.schema
    flat = arrow_schema()
    assert schema.names[: len(flat)] == flat.names
    for field in flat:  # identical Arrow types, including the offense structs
        assert schema.field(field.name).type == field.type, field.name
    assert schema.names[len(flat):] == list(EXTRA_COLUMNS)
    assert schema.equals(nation_schema())
    check_caseload_schema(schema)  # what bulk evaluation checks


def test_every_sampled_row_is_a_valid_case_that_flattens_back(small_nation):
    rows = small_nation.to_pylist()
    rng = random.Random(1)
    # all IDENT matches (the rows that get evaluated) and a sample of the rest
    sample = [r for r in rows if r["ident_match"]][:400] + rng.sample(rows, 300)
    flat_names = arrow_schema().names
    for row in sample:
        case = Case.model_validate(case_from_row(row))
        assert flatten_case(case) == {k: row[k] for k in flat_names}, row["case_id"]


def test_row_invariants(small_nation, nation_params):
    t = small_nation.to_pydict()
    n = small_nation.num_rows
    assert n > 3000
    assert len(set(t["tcn"])) == n and t["tcn"] == t["case_id"]
    assert len(set(t["person_id"])) == n
    for i in range(n):
        status = t["true_status"][i]
        assert status in TRUE_STATUSES
        assert t["person_citizenship_status"][i] in STATUS_CATEGORIES
        if not t["ident_match"][i]:
            assert t["person_citizenship_status"][i] == "unknown"  # no hit, no determination
        if status == "us_citizen_by_birth":
            assert not t["ident_enrolled"][i] and t["place_of_birth"][i] == "US"
        if t["false_match"][i]:
            assert status == "us_citizen_by_birth" and t["ident_match"][i]
        if t["ident_match"][i] and not t["false_match"][i]:
            assert t["ident_enrolled"][i]
        assert (t["naturalized_on"][i] is not None) == (status == "naturalized_citizen")
        assert t["month"][i] == t["decided_on"][i].replace(day=1)
        assert t["release_eligible_at"][i] > t["booked_at"][i]
        assert t["fbi_record"][i] == (t["prior_arrests"][i] > 0)
        assert t["sex"][i] in ("M", "F") and t["race"][i] in "WBAIU"
        assert t["ethnicity"][i] in ("H", "N", "U") and len(t["place_of_birth"][i]) == 2
        assert t["charge_category"][i] in CHARGE_CATEGORIES
        assert t["conviction_status"][i] in CONVICTION_STATUSES
        convicted = bool(t["convictions"][i])
        assert (t["conviction_status"][i] == "convicted") == convicted
        if not convicted:
            assert (t["conviction_status"][i] == "charged_only") == t["fbi_record"][i]
    # bookings only in the period, only once the jurisdiction is active
    assert min(t["decided_on"]) >= SMALL_SPEC.start and max(t["decided_on"]) <= SMALL_SPEC.end


def test_bookings_only_after_activation(small_nation, nation_params):
    from securecomm.synth.jurisdictions import jurisdictions_table

    jur = jurisdictions_table(nation_params, SMALL_SPEC.seed)
    activated = dict(zip(jur["ori"].to_pylist(), jur["activated_on"].to_pylist(), strict=True))
    for ori, day in zip(small_nation["jurisdiction_ori"].to_pylist(),
                        small_nation["decided_on"].to_pylist(), strict=True):  # fmt: skip
        assert day >= activated[ori]


def test_mixes_are_plausible(small_nation):
    def share(col, value):
        return pc.mean(pc.equal(small_nation[col], value).cast(pa.float64())).as_py()

    assert 0.6 < share("true_status", "us_citizen_by_birth") < 0.95
    assert 0.05 < pc.mean(small_nation["ident_match"].cast(pa.float64())).as_py() < 0.3
    assert 0.1 < share("charge_category", "minor_traffic") < 0.35
    assert 0.05 < share("charge_category", "felony") < 0.3
    assert share("ethnicity", "H") > 0.1


def test_charge_category_is_the_stats_definition(small_nation):
    # the whole booking through the single-case interpreter of stats.categories
    for row in small_nation.slice(0, 1500).to_pylist():
        assert row["charge_category"] == charge_category_of(row["charges"]), row["charges"]


def test_conviction_status_is_the_stats_definition(small_nation):
    for row in small_nation.slice(0, 1500).to_pylist():
        assert row["conviction_status"] == conviction_status_of(
            bool(row["convictions"]), row["fbi_record"]
        )


@settings(max_examples=40, deadline=None)
@given(
    fraction=st.one_of(st.floats(allow_nan=True), st.integers(), st.booleans(), st.text()),
    seed=st.one_of(st.integers(), st.floats(), st.booleans()),
)
def test_spec_validation_names_the_field(fraction, seed):
    try:
        NationSpec(seed=seed, sample_fraction=fraction)
    except ValueError as exc:
        assert str(exc).startswith(("seed:", "sample_fraction:"))
    else:
        assert isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0
        assert 0 < fraction <= 1


def test_spec_dates_and_scales():
    with pytest.raises(ValueError, match="before start"):
        NationSpec(start=dt.date(2011, 1, 2), end=dt.date(2011, 1, 1))
    with pytest.raises(ValueError, match="scale"):
        NationSpec.for_scale("galactic")
    national = NationSpec.for_scale("national", seed=2)
    assert national.sample_fraction == 1.0 and (national.end - national.start).days == 365


def test_empty_period_gives_an_empty_table_with_the_schema(nation_params):
    spec = NationSpec(seed=1, sample_fraction=0.001, start=dt.date(2008, 1, 1),
                      end=dt.date(2008, 3, 1), scale="custom")  # before any activation
    table = generate_nation(spec, params=nation_params)
    assert table.num_rows == 0 and table.schema.equals(nation_schema())


def test_false_matches_occur_at_scale(nation_params):
    # at a larger sample the rare false match of a US-born citizen shows up
    spec = NationSpec(seed=2, sample_fraction=0.004, start=dt.date(2011, 1, 1),
                      end=dt.date(2011, 6, 30), scale="custom")  # fmt: skip
    table = generate_nation(spec, params=nation_params)
    fm = np.asarray(table["false_match"].to_numpy(zero_copy_only=False))
    assert fm.sum() >= 1
    assert set(pc.filter(table["true_status"], table["false_match"]).to_pylist()) == {
        "us_citizen_by_birth"
    }
