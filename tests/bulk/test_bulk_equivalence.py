"""THE property: single-case and bulk evaluation give identical results.

For generated Case v1 objects, ``CompiledPack`` (one by one, Python) and ``compile_outcomes``
(in bulk, Ibis on DuckDB — and on Spark, marked ``spark``) give the same outcome columns, the
same Decision v1 objects (through ``decisions_from_outcomes``), and fail on the same cases.
"""

from __future__ import annotations

import datetime as dt
import tempfile

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from bulk_helpers import (
    BASE_CASE,
    assert_same,
    assert_same_records,
    base_record,
    flat_table,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from securecomm.bulk.ibis_compiler import (
    IbisCompiler,
    compile_outcomes,
    list_max_lengths,
    outcome_columns,
)
from securecomm.bulk.synthetic import generate_flat_caseload
from securecomm.bulk.testing import NON_ASCII_LITERALS, case_batches, literals, ncic_codes
from securecomm.law.engine import CompiledPack, bind_pack
from securecomm.law.expr import Col, Count, Lit, PythonCompiler, YearsBetween, bind_params
from securecomm.law.flatten import flatten_case
from securecomm.law.offenses import CATEGORIES, offense_classifier
from securecomm.law.packs import PACKS
from securecomm.law.schema import Case

PACK_NAMES = sorted(PACKS)
_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]


def bulk_settings(max_examples: int) -> settings:
    return settings(max_examples=max_examples, deadline=None, suppress_health_check=_SLOW_OK)


@pytest.mark.parametrize("pack_name", PACK_NAMES)
@bulk_settings(12)
@given(cases=case_batches(min_size=1, max_size=40))
def test_bulk_equals_single_on_duckdb(duck, pack_name: str, cases: list[Case]) -> None:
    assert_same(duck, PACKS[pack_name], cases)


FORMULATIONS = {
    "reference": {"packed": False, "lookup": False, "keylists": False},
    "packed": {"packed": True},
}


@pytest.mark.parametrize("formulation", sorted(FORMULATIONS))
@bulk_settings(5)
@given(cases=case_batches(min_size=5, max_size=40))
def test_other_formulations_agree(duck, formulation: str, cases: list[Case]) -> None:
    """The optimisations change nothing: the plain formulation (``list_filter`` per count,
    ``IN`` lists, ``unique`` per distinct count) and packed counters agree too."""
    for name in PACK_NAMES:
        assert_same(duck, PACKS[name], cases, **FORMULATIONS[formulation])


@pytest.mark.parametrize("pack_name", PACK_NAMES)
def test_synthetic_caseload_agrees(duck, pack_name: str) -> None:
    """Flat records from the vectorized generator (realistic mixes, no pydantic in between)."""
    assert_same_records(duck, PACKS[pack_name], generate_flat_caseload(3000, seed=11).to_pylist())


# --------------------------------------------------------------------------- edge records


def write_parquet_table(table: pa.Table) -> str:
    path = f"{tempfile.mkdtemp(prefix='bulk-test-')}/t.parquet"
    pq.write_table(table, path)
    return path


def write_parquet(records: list[dict]) -> str:
    return write_parquet_table(flat_table(records))


def _conviction(**fields) -> dict:
    out = {
        "ncic": "2303",
        "literal": "SHOPLIFTING",
        "severity": "misdemeanor",
        "injury": False,
        "domestic_violence": False,
        "disposition": "convicted",
        "sentence_days": None,
        "suspended": False,
        "aggravated_felony": None,
        "gang_element": False,
        "counsel": None,
        "convicted_on": None,
        "incident_key": None,
        "from_current_charge": False,
        "juvenile_adjudication": False,
    }
    out.update(fields)
    return out


def _edge_records() -> list[dict]:
    d = dt.date
    recs = [
        # entry before birth (bad data): negative whole years, floored like Python
        base_record("neg-1", person_birth_date=d(2000, 5, 2), person_entered_us_on=d(2000, 5, 1)),
        base_record("neg-2", person_birth_date=d(2000, 5, 1), person_entered_us_on=d(1984, 5, 2)),
        base_record("neg-3", person_birth_date=d(2000, 2, 29), person_entered_us_on=d(1999, 3, 1)),
        base_record("leap-1", person_birth_date=d(2000, 2, 29), decided_on=d(2016, 2, 28)),
        base_record("leap-2", person_birth_date=d(2000, 2, 29), decided_on=d(2016, 2, 29)),
        base_record("leap-3", person_birth_date=d(1996, 2, 29), decided_on=d(2014, 3, 1)),
        base_record("null-dates", person_birth_date=None, person_entered_us_on=None),
        # codes that are not canonical 4-digit strings never hit the code lookup
        base_record(
            "codes",
            person_citizenship_status="lawful_permanent_resident",
            convictions=[
                _conviction(ncic=c, severity="felony", incident_key=f"k{i}")
                for i, c in enumerate(["+3530", " 3530", "3530 ", "3.53", "353", "03530", "x"])
            ],
        ),
        # long lists: packed counters widen to fit (10 bits here)
        base_record(
            "long",
            person_citizenship_status="lawful_permanent_resident",
            convictions=[
                _conviction(ncic="2303" if i % 3 else "3530", incident_key=f"i{i % 700}")
                for i in range(700)
            ],
        ),
    ]
    return recs


@pytest.mark.parametrize("formulation", ["default", *sorted(FORMULATIONS)])
@pytest.mark.parametrize("pack_name", PACK_NAMES)
def test_edge_records_agree(duck, pack_name: str, formulation: str) -> None:
    options = FORMULATIONS.get(formulation, {})
    assert_same_records(duck, PACKS[pack_name], _edge_records(), **options)


def test_non_ascii_literals_agree(duck) -> None:
    cases = []
    for i, literal in enumerate(NON_ASCII_LITERALS):
        charges = [{"ncic": "7399", "literal": literal, "severity": "infraction"}]
        data = {**BASE_CASE, "case_id": f"u-{i}", "arrest": {"charges": charges}}
        cases.append(Case.model_validate(data))
    for name in PACK_NAMES:
        assert_same(duck, PACKS[name], cases)


# --------------------------------------------------------------------------- spark


@pytest.mark.spark
@bulk_settings(4)
@given(cases=case_batches(min_size=30, max_size=40))
def test_bulk_equals_single_on_spark(spark, cases: list[Case]) -> None:
    """Few examples (each Spark job takes seconds), each a batch of 30-40 generated cases."""
    for name in PACK_NAMES:
        assert_same(spark, PACKS[name], cases)


@pytest.mark.spark
def test_spark_edge_and_synthetic_records_agree(spark) -> None:
    records = _edge_records() + generate_flat_caseload(500, seed=5).to_pylist()
    for name in PACK_NAMES:
        assert_same_records(spark, PACKS[name], records)


@pytest.mark.parametrize("pack_name", PACK_NAMES)
def test_exactly_the_outcome_columns(duck, pack_name: str) -> None:
    pack = PACKS[pack_name]
    bound = bind_pack(pack)
    record = base_record("one")
    t = duck.read_parquet(write_parquet([record]))
    columns = compile_outcomes(bound, t).columns
    assert list(columns) == [*outcome_columns(bound), "conflict"]
    assert outcome_columns(bound) == list(CompiledPack(pack).evaluate(record))
    for options in FORMULATIONS.values():
        assert list(compile_outcomes(bound, t, **options).columns) == list(columns)
    assert list_max_lengths(t) == {"charges": 1, "convictions": 0}


def test_years_between_floors_like_python(duck) -> None:
    """SQL integer division truncates; ibis ``//`` floors, like Python (negative spans)."""
    starts = [dt.date(2000, 5, 2), dt.date(2000, 5, 1), dt.date(2000, 2, 29), dt.date(1990, 1, 1)]
    ends = [dt.date(2000, 5, 1), dt.date(1984, 5, 2), dt.date(1999, 3, 1), dt.date(2020, 1, 1)]
    t = duck.read_parquet(write_parquet_table(pa.table({"a": starts, "b": ends})))
    got = IbisCompiler(t).compile(YearsBetween(Col("a"), Col("b"))).to_pyarrow().to_pylist()
    expected = [PythonCompiler({}).compile(YearsBetween(Lit(a), Lit(b)))({}, None, {})
                for a, b in zip(starts, ends, strict=True)]  # fmt: skip
    assert got == expected == [-1, -16, -1, 30]


# --------------------------------------------------------------------------- v2 properties

CITIZENS = ("us_citizen_by_birth", "naturalized_citizen")


def _with(case: Case, **person_or_flags) -> Case:
    data = case.model_dump(mode="json")
    person = {k: v for k, v in person_or_flags.items() if k != "flags"}
    data["person"].update(person)
    data["flags"].update(person_or_flags.get("flags", {}))
    return Case.model_validate(data)


@pytest.mark.parametrize("pack_name", PACK_NAMES)
@bulk_settings(8)
@given(cases=case_batches(min_size=1, max_size=25), status=st.sampled_from(CITIZENS))
def test_no_citizen_ever_gets_a_detainer_or_a_priority(duck, pack_name, cases, status) -> None:
    """Whatever the record shows (convictions, flags, final orders), a citizen — naturalized or
    US-born and falsely matched — gets no holding action and no priority, single and bulk
    (assert_same checks assert_v2_invariants on both)."""
    assert_same(duck, PACKS[pack_name], [_with(c, citizenship_status=status) for c in cases])


@pytest.mark.parametrize("pack_name", PACK_NAMES)
@bulk_settings(8)
@given(cases=case_batches(min_size=1, max_size=25))
def test_supervisor_approval_only_with_a_holding_action(duck, pack_name, cases) -> None:
    """Protected and aggravating persons: approval is asked only where the action would hold."""
    flagged = [_with(c, flags={"crime_victim": True, "gang_member": True}) for c in cases]
    assert_same(duck, PACKS[pack_name], flagged)


_CATEGORY_NAMES = sorted(CATEGORIES)


@bulk_settings(10)
@given(
    offenses=st.lists(
        st.tuples(ncic_codes(), literals(), st.sampled_from(["infraction", "misdemeanor", "felony"]),
                  st.booleans()),
        min_size=1, max_size=40,
    )
)  # fmt: skip
def test_no_literal_lowers_the_category_of_a_specific_code_in_bulk(duck, offenses) -> None:
    """Each offense classified with its literal and without, in Python and in Ibis on DuckDB:
    the same categories either way, and on a specific (non catch-all) code the literal changes
    nothing; on a catch-all code outside the public-order ones it never makes a charge minor."""
    params = {name: p.value for name, p in PACKS["tfsc-2011"].parameters.items()}
    generic = set(params["offenses.generic_ncic"])
    refinable = set(params["offenses.minor_refinable_ncic"])
    records = []
    for i, (code, literal, severity, dv) in enumerate(offenses):
        for tag, text in (("lit", literal), ("bare", "")):
            charge = {"ncic": code, "literal": text, "severity": severity, "domestic_violence": dv}
            data = {**BASE_CASE, "case_id": f"{tag}-{i}", "arrest": {"charges": [charge]}}
            records.append(flatten_case(Case.model_validate(data)))
    table = duck.read_parquet(write_parquet(records))
    compiler = IbisCompiler(table)
    exprs = {
        name: compiler.compile(bind_params(Count("charges", CATEGORIES[name][0]()), params))
        for name in _CATEGORY_NAMES
    }
    bulk = table.select("case_id", **exprs).to_pyarrow().to_pylist()
    by_id = {r["case_id"]: {n for n in _CATEGORY_NAMES if r[n]} for r in bulk}
    python = offense_classifier(params)
    for record in records:
        single = {c["category"] for c in python(record["charges"][0])} & set(_CATEGORY_NAMES)
        assert by_id[record["case_id"]] == single, record["charges"][0]
    minor = {"minor_traffic", "minor_misdemeanor"}
    for i, (code, literal, severity, _) in enumerate(offenses):
        with_literal, bare = by_id[f"lit-{i}"], by_id[f"bare-{i}"]
        if code not in generic:
            assert with_literal == bare, (code, literal, severity)
        elif code not in refinable:
            assert not (with_literal & minor) - bare, (code, literal, severity)
