"""A small, typed expression language for rules — the single source of truth.

Rules are written once as expression trees over the flat case record (``flatten.py``). Two
interpreters read the same trees:

- ``compile_python`` (here) turns a tree into a Python closure over one record (a dict) —
  used by ``securecomm decide`` and the pipeline;
- ``securecomm.bulk.ibis_compiler`` turns it into an Ibis expression over a table — used by
  ``securecomm evaluate`` on DuckDB or PySpark.

Null semantics are fixed here and honoured by both interpreters: every predicate is two-valued.
A comparison, set test or pattern test with a null operand is *false*; ``Not`` of a predicate
is therefore the plain complement. Arithmetic with a null operand is null.

Dates are compared as ISO dates; ``YearsBetween`` counts whole years with the
``(yyyymmdd(b) - yyyymmdd(a)) // 10000`` identity, exact for birthdays and anniversaries
(a person born 2000-02-29 turns 1 on 2001-03-01).
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# --------------------------------------------------------------------------- nodes


class Expr:
    """Base node. Boolean operators build trees: ``a & b``, ``a | b``, ``~a``."""

    def __and__(self, other: Expr) -> Expr:
        return And((self, other))

    def __or__(self, other: Expr) -> Expr:
        return Or((self, other))

    def __invert__(self) -> Expr:
        return Not(self)

    # comparisons are named methods: ``==`` stays structural equality of trees
    def eq(self, other: Any) -> Expr:
        return Cmp("eq", self, lit(other))

    def ne(self, other: Any) -> Expr:
        return Cmp("ne", self, lit(other))

    def lt(self, other: Any) -> Expr:
        return Cmp("lt", self, lit(other))

    def le(self, other: Any) -> Expr:
        return Cmp("le", self, lit(other))

    def gt(self, other: Any) -> Expr:
        return Cmp("gt", self, lit(other))

    def ge(self, other: Any) -> Expr:
        return Cmp("ge", self, lit(other))

    def isin(self, values: Any) -> Expr:
        return InSet(self, lit(values))

    def matches(self, pattern: Any) -> Expr:
        return Matches(self, lit(pattern))

    def is_null(self) -> Expr:
        return IsNull(self)


@dataclass(frozen=True, eq=True)
class Lit(Expr):
    value: Any


@dataclass(frozen=True, eq=True)
class Col(Expr):
    """A column of the flat case record."""

    name: str


@dataclass(frozen=True, eq=True)
class Item(Expr):
    """A field of the current offense record inside a quantifier (Count / Exists / ...)."""

    name: str


@dataclass(frozen=True, eq=True)
class Param(Expr):
    """A policy parameter, bound to its value when a pack is compiled."""

    name: str


@dataclass(frozen=True, eq=True)
class Var(Expr):
    """A named variable (another definition of the pack), evaluated once per case."""

    name: str


@dataclass(frozen=True, eq=True)
class Not(Expr):
    operand: Expr


@dataclass(frozen=True, eq=True)
class And(Expr):
    operands: tuple[Expr, ...]


@dataclass(frozen=True, eq=True)
class Or(Expr):
    operands: tuple[Expr, ...]


@dataclass(frozen=True, eq=True)
class Cmp(Expr):
    op: str  # eq ne lt le gt ge
    left: Expr
    right: Expr


@dataclass(frozen=True, eq=True)
class InSet(Expr):
    operand: Expr
    values: Expr  # a Lit or Param holding a tuple / frozenset


@dataclass(frozen=True, eq=True)
class Matches(Expr):
    """Case-insensitive, ASCII regular-expression search in the subset shared by Python ``re``,
    RE2 (DuckDB) and Java (Spark): no lookarounds, no backreferences."""

    operand: Expr
    pattern: Expr


@dataclass(frozen=True, eq=True)
class IsNull(Expr):
    operand: Expr


@dataclass(frozen=True, eq=True)
class Add(Expr):
    left: Expr
    right: Expr


@dataclass(frozen=True, eq=True)
class YearsBetween(Expr):
    """Whole years from date ``start`` to date ``end`` (null if either is null)."""

    start: Expr
    end: Expr


@dataclass(frozen=True, eq=True)
class Count(Expr):
    """Number of records of list column ``over`` satisfying ``where``."""

    over: str
    where: Expr


@dataclass(frozen=True, eq=True)
class CountDistinct(Expr):
    """Number of distinct non-null ``key`` values among records satisfying ``where``."""

    over: str
    key: Expr
    where: Expr


@dataclass(frozen=True, eq=True)
class IfThen(Expr):
    """``IfThen(((cond, value), ...), default)``: the first true condition's value."""

    branches: tuple[tuple[Expr, Expr], ...]
    default: Expr


# --------------------------------------------------------------------------- builders


def lit(value: Any) -> Expr:
    if isinstance(value, Expr):
        return value
    if isinstance(value, (list, set, frozenset)):
        value = tuple(sorted(value))
    return Lit(value)


TRUE = Lit(True)
FALSE = Lit(False)


def all_of(*operands: Expr) -> Expr:
    return And(tuple(operands)) if operands else TRUE


def any_of(*operands: Expr) -> Expr:
    return Or(tuple(operands)) if operands else FALSE


def count(over: str, where: Expr = TRUE) -> Expr:
    return Count(over, where)


def exists(over: str, where: Expr) -> Expr:
    return Count(over, where).ge(1)


def every(over: str, where: Expr) -> Expr:
    """Every record satisfies ``where`` — and there is at least one record.

    The non-empty requirement is deliberate: "every current charge is minor traffic" must not
    hold vacuously for an arrest with no charges recorded.
    """
    return Count(over, TRUE).ge(1) & Count(over, Not(where)).eq(0)


def years_between(start: Expr, end: Expr) -> Expr:
    return YearsBetween(start, end)


def if_then(branches: list[tuple[Expr, Any]], default: Any = None) -> Expr:
    return IfThen(tuple((c, lit(v)) for c, v in branches), lit(default))


# --------------------------------------------------------------------------- traversal


def children(node: Expr) -> tuple[Expr, ...]:
    match node:
        case Not(o) | IsNull(o):
            return (o,)
        case And(ops) | Or(ops):
            return ops
        case Cmp(_, a, b) | Add(a, b) | YearsBetween(a, b):
            return (a, b)
        case InSet(a, v) | Matches(a, v):
            return (a, v)
        case Count(_, w):
            return (w,)
        case CountDistinct(_, k, w):
            return (k, w)
        case IfThen(branches, default):
            return (*[x for pair in branches for x in pair], default)
        case _:
            return ()


def walk(node: Expr):
    yield node
    for child in children(node):
        yield from walk(child)


def referenced(node: Expr, kind: type) -> set[str]:
    """Names of the Var / Param / Col / Item nodes a tree refers to."""
    return {n.name for n in walk(node) if isinstance(n, kind)}


def bind_params(node: Expr, params: Mapping[str, Any]) -> Expr:
    """Replace every Param by a Lit of its value; unknown parameter -> KeyError naming it."""
    match node:
        case Param(name):
            if name not in params:
                raise KeyError(f"unknown parameter {name!r}")
            return lit(params[name])
        case Not(o):
            return Not(bind_params(o, params))
        case IsNull(o):
            return IsNull(bind_params(o, params))
        case And(ops):
            return And(tuple(bind_params(o, params) for o in ops))
        case Or(ops):
            return Or(tuple(bind_params(o, params) for o in ops))
        case Cmp(op, a, b):
            return Cmp(op, bind_params(a, params), bind_params(b, params))
        case Add(a, b):
            return Add(bind_params(a, params), bind_params(b, params))
        case YearsBetween(a, b):
            return YearsBetween(bind_params(a, params), bind_params(b, params))
        case InSet(a, v):
            return InSet(bind_params(a, params), bind_params(v, params))
        case Matches(a, v):
            return Matches(bind_params(a, params), bind_params(v, params))
        case Count(over, w):
            return Count(over, bind_params(w, params))
        case CountDistinct(over, k, w):
            return CountDistinct(over, bind_params(k, params), bind_params(w, params))
        case IfThen(branches, default):
            return IfThen(
                tuple((bind_params(c, params), bind_params(v, params)) for c, v in branches),
                bind_params(default, params),
            )
        case _:
            return node


# --------------------------------------------------------------------------- Python interpreter

Row = Mapping[str, Any]
Env = dict[str, Any]  # variable cache for one case
Fn = Callable[[Row, Any, Env], Any]  # (record, current list item or None, var cache)

_CMP = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}


def _yyyymmdd(day: dt.date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


@dataclass
class PythonCompiler:
    """Compiles bound trees to closures. ``variables`` maps Var names to compiled closures."""

    variables: dict[str, Fn]

    def compile(self, node: Expr) -> Fn:
        match node:
            case Lit(value):
                return lambda r, i, e: value
            case Col(name):
                return lambda r, i, e: r[name]
            case Item(name):
                return lambda r, i, e: i[name]
            case Var(name):
                variables = self.variables

                def var(r, i, e, name=name):
                    if name not in e:
                        e[name] = variables[name](r, None, e)
                    return e[name]

                return var
            case Param(name):
                raise ValueError(f"parameter {name!r} was not bound before compiling")
            case Not(o):
                f = self.compile(o)
                return lambda r, i, e: not f(r, i, e)
            case And(ops):
                fs = [self.compile(o) for o in ops]
                return lambda r, i, e: all(f(r, i, e) for f in fs)
            case Or(ops):
                fs = [self.compile(o) for o in ops]
                return lambda r, i, e: any(f(r, i, e) for f in fs)
            case Cmp(op, a, b):
                fa, fb, py_op = self.compile(a), self.compile(b), _CMP[op]

                def cmp(r, i, e):
                    x, y = fa(r, i, e), fb(r, i, e)
                    return x is not None and y is not None and py_op(x, y)

                return cmp
            case InSet(a, Lit(values)):
                fa, members = self.compile(a), frozenset(values)

                def inset(r, i, e):
                    x = fa(r, i, e)
                    return x is not None and x in members

                return inset
            case Matches(a, Lit(pattern)):
                # ASCII: \w, \b and case folding as in RE2 (DuckDB) and Java (Spark)
                fa, rx = self.compile(a), re.compile(pattern, re.IGNORECASE | re.ASCII)

                def matches(r, i, e):
                    x = fa(r, i, e)
                    return x is not None and rx.search(x) is not None

                return matches
            case IsNull(a):
                fa = self.compile(a)
                return lambda r, i, e: fa(r, i, e) is None
            case Add(a, b):
                fa, fb = self.compile(a), self.compile(b)

                def add(r, i, e):
                    x, y = fa(r, i, e), fb(r, i, e)
                    return None if x is None or y is None else x + y

                return add
            case YearsBetween(a, b):
                fa, fb = self.compile(a), self.compile(b)

                def years(r, i, e):
                    x, y = fa(r, i, e), fb(r, i, e)
                    if x is None or y is None:
                        return None
                    return (_yyyymmdd(y) - _yyyymmdd(x)) // 10000

                return years
            case Count(over, where):
                fw = self.compile(where)
                return lambda r, i, e: sum(1 for item in r[over] or () if fw(r, item, e))
            case CountDistinct(over, key, where):
                fk, fw = self.compile(key), self.compile(where)

                def count_distinct(r, i, e):
                    keys = {fk(r, item, e) for item in r[over] or () if fw(r, item, e)}
                    keys.discard(None)
                    return len(keys)

                return count_distinct
            case IfThen(branches, default):
                compiled = [(self.compile(c), self.compile(v)) for c, v in branches]
                fd = self.compile(default)

                def if_then_(r, i, e):
                    for fc, fv in compiled:
                        if fc(r, i, e):
                            return fv(r, i, e)
                    return fd(r, i, e)

                return if_then_
            case _:
                raise TypeError(f"cannot compile {node!r}")
