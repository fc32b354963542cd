"""The expression language's own semantics (shared by both interpreters)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from securecomm.law.expr import (
    Col,
    CountDistinct,
    Item,
    Param,
    PythonCompiler,
    Var,
    bind_params,
    count,
    every,
    exists,
    if_then,
    years_between,
)


def ev(expr, row=None, variables=None):
    compiler = PythonCompiler({})
    for name, e in (variables or {}).items():
        compiler.variables[name] = compiler.compile(e)
    return compiler.compile(expr)(row or {}, None, {})


def test_comparisons_with_null_are_false_and_not_is_the_complement():
    row = {"a": None}
    for e in (Col("a").eq(1), Col("a").ne(1), Col("a").lt(1), Col("a").ge(1), Col("a").isin((1,))):
        assert ev(e, row) is False
        assert ev(~e, row) is True
    assert ev(Col("a").matches("x"), row) is False


def test_years_between_counts_whole_years_across_leap_days():
    e = years_between(Col("born"), Col("on"))
    born = dt.date(2000, 2, 29)
    assert ev(e, {"born": born, "on": dt.date(2001, 2, 28)}) == 0
    assert ev(e, {"born": born, "on": dt.date(2001, 3, 1)}) == 1
    assert ev(e, {"born": born, "on": dt.date(2016, 2, 29)}) == 16
    assert ev(e, {"born": None, "on": dt.date(2016, 2, 29)}) is None


@given(st.dates(min_value=dt.date(1900, 1, 1)), st.dates(min_value=dt.date(1900, 1, 1)))
def test_years_between_agrees_with_calendar_arithmetic(a, b):
    expected = b.year - a.year - ((b.month, b.day) < (a.month, a.day))
    assert ev(years_between(Col("a"), Col("b")), {"a": a, "b": b}) == expected


def test_every_requires_a_record_and_exists_counts():
    minor = Item("severity").eq("infraction")
    assert ev(every("charges", minor), {"charges": []}) is False
    rows = {"charges": [{"severity": "infraction"}, {"severity": "felony"}]}
    assert ev(every("charges", minor), rows) is False
    assert ev(exists("charges", minor), rows) is True
    assert ev(count("charges"), rows) == 2


def test_count_distinct_ignores_nulls_and_duplicates():
    e = CountDistinct("c", Item("k"), Item("ok").eq(True))
    row = {"c": [{"k": "a", "ok": True}, {"k": "a", "ok": True}, {"k": None, "ok": True},
                 {"k": "b", "ok": False}, {"k": "c", "ok": True}]}  # fmt: skip
    assert ev(e, row) == 2


def test_if_then_takes_first_true_branch():
    e = if_then([(Col("x").ge(10), 1), (Col("x").ge(5), 2)], None)
    assert [ev(e, {"x": v}) for v in (12, 7, 1, None)] == [1, 2, None, None]


def test_variables_are_evaluated_once_per_case():
    calls = []
    compiler = PythonCompiler({})
    compiler.variables["v"] = lambda r, i, e: calls.append(1) or 3
    fn = compiler.compile(Var("v").ge(1) & Var("v").le(5))
    env: dict = {}
    assert fn({}, None, env) is True
    assert calls == [1]


def test_bind_params_replaces_and_names_unknown():
    e = Col("x").ge(Param("p.limit"))
    assert ev(bind_params(e, {"p.limit": 3}), {"x": 4}) is True
    with pytest.raises(KeyError, match=r"p\.limit"):
        bind_params(e, {})
    with pytest.raises(ValueError, match="not bound"):
        ev(e, {"x": 1})
