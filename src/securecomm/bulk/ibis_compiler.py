"""The rule expression language compiled to Ibis — the bulk twin of ``expr.PythonCompiler``.

``compile_outcomes(bound, table)`` returns, for a table of flat case records (``flatten.py``),
exactly the outcome columns of ``engine.CompiledPack.evaluate`` — ``case_id``, one boolean
column per rule, ``removable``, ``level``, ``action``, ``action_rule`` — plus ``conflict``.
The same Ibis expression runs on DuckDB and on PySpark.

Semantics follow ``expr.py`` exactly: predicates are two-valued (a comparison, set test or
pattern test with a null operand is false: ``coalesce(..., false)``), arithmetic with null is
null, ``YearsBetween`` floors like Python's ``//`` (also for negative spans: ibis compiles
``//`` to ``floor(a / b)`` on both backends), ``Matches`` is a case-insensitive regex search
(``(?i)`` prefix: RE2 on DuckDB, Java regex on Spark), ``Count`` / ``CountDistinct``
quantify over a list column without any join (Ibis array ``map`` / ``filter`` / ``sums``).

How the work is laid out — each step measured on DuckDB (1M synthetic cases, tfsc-2011,
process CPU time; see ``benchmark.py``):

1. ``simplify`` folds literal subtrees (bound parameters make many: ``counted_conviction()``
   with its parameter true is just ``true``) with the Python interpreter itself, so folding
   cannot disagree with single-case evaluation.
2. ``plan`` rewrites the trees so that every *item predicate* (a leaf such as
   ``ncic IN (...)`` or ``literal ~ pattern`` inside a quantifier) is computed once per offense
   record: each list column is mapped once (``list_transform`` / ``transform``) into a list of
   small structs, one field per distinct leaf — each regex runs once per record. The set tests
   of 4-digit codes (``ncic IN (...)``: ~25 sets of up to ~140 codes) share one lookup of a
   10,000-entry table ``code -> bit word`` (~0.3 s CPU per million cases, ~0.8 s as ``IN``
   lists); the table is one string
   literal split at run time (an array literal of 10,000 elements costs ~1 s of SQL generation
   per query), addressed without CASE (constants inside DuckDB lambdas are rebuilt per chunk,
   and a CASE around them multiplied that cost by 5).
3. Counts are cheap: the ``where`` of every ``Count`` is a boolean combination of those
   precomputed fields (``optimize_boolean`` factors shared conjuncts and merges bit tests), so
   ``len(list_filter(...))`` over the small structs is all that is left. Identical counts
   (``count(charges)`` in every ``every``) are computed once; distinct-key lists are built once
   and only de-duplicated when they hold two keys or more (``keylists``). Measured and *not*
   the default: ``packed=True`` sums up to ``63 // b`` counters of ``b`` bits in one
   ``list_sum`` pass (``b`` fitted to the longest list, ``max_lengths``). In isolation the
   count passes take ~1.7x less CPU, but over the whole query the two formulations are within
   noise on DuckDB (4.2-4.4 s CPU per million cases either way) and on Spark, and packing needs
   the longest list lengths first (an extra scan, 0.37 s CPU per million) — so plain counts
   it is; packing stays as a tested option.
4. Variables and counts become columns, added by successive ``mutate`` layers in dependency
   order, so a variable used by twenty rules is computed once (Ibis keeps the layers apart
   whenever merging them would duplicate work).
5. Action resolution (highest applicable rank decides; disagreement at the top rank is a
   conflict; nothing applicable is null) is one CASE expression; disclosure rules that read
   ``Var("action")`` are computed after it.

Where two applicable rules at the top rank disagree, ``conflict`` is true and ``action`` /
``action_rule`` are null — a bulk consumer can never use a default by accident.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir

from securecomm.law.engine import BoundPack, column_name
from securecomm.law.expr import (
    FALSE,
    TRUE,
    Add,
    And,
    Cmp,
    Col,
    Count,
    CountDistinct,
    Expr,
    IfThen,
    InSet,
    IsNull,
    Item,
    Lit,
    Matches,
    Not,
    Or,
    Param,
    PythonCompiler,
    Var,
    YearsBetween,
    children,
    referenced,
    walk,
)
from securecomm.law.flatten import CASE_COLUMNS

ACTION_VAR = "action"
OUTCOME_COLUMNS_FIXED = ("case_id", "removable", "level", "action", "action_rule")

# --------------------------------------------------------------------------- simplification

_PY = PythonCompiler({})


def _is_const(node: Expr) -> bool:
    return isinstance(node, Lit)


def _fold(node: Expr) -> Lit:
    """Evaluate a literal-only node with the single-case interpreter (same semantics)."""
    return Lit(_PY.compile(node)({}, None, {}))


def simplify(node: Expr) -> Expr:
    """Fold literal subtrees and trivial boolean structure; semantics-preserving.

    ``And`` / ``Or`` return booleans in the Python interpreter, so flattening nested
    conjunctions and dropping true operands of ``And`` (false operands of ``Or``) keeps the
    meaning; a single remaining operand stays wrapped (``And((x,))`` is ``bool(x)``, not ``x``).
    """
    match node:
        case Lit() | Col() | Item() | Var() | Param():
            return node
        case Not(o):
            o = simplify(o)
            return _fold(Not(o)) if _is_const(o) else Not(o)
        case And(ops) | Or(ops):
            is_and = isinstance(node, And)
            kept: list[Expr] = []
            for o in (simplify(o) for o in ops):
                if _is_const(o):
                    if bool(o.value) != is_and:  # false in And / true in Or decides
                        return FALSE if is_and else TRUE
                    continue
                inner = o.operands if isinstance(o, type(node)) else (o,)
                kept.extend(x for x in inner if x not in kept)
            if not kept:
                return TRUE if is_and else FALSE
            return And(tuple(kept)) if is_and else Or(tuple(kept))
        case Cmp(op, a, b):
            a, b = simplify(a), simplify(b)
            if _is_none(a) or _is_none(b):
                return FALSE
            new = Cmp(op, a, b)
            return _fold(new) if _is_const(a) and _is_const(b) else new
        case InSet(a, v):
            a, v = simplify(a), simplify(v)
            if _is_none(a):
                return FALSE
            new = InSet(a, v)
            if _is_const(a) and _is_const(v):
                return _fold(new)
            if _is_const(v) and not v.value:
                return FALSE
            return new
        case Matches(a, p):
            a, p = simplify(a), simplify(p)
            if _is_none(a):
                return FALSE
            new = Matches(a, p)
            return _fold(new) if _is_const(a) and _is_const(p) else new
        case IsNull(a):
            a = simplify(a)
            return Lit(a.value is None) if _is_const(a) else IsNull(a)
        case Add(a, b) | YearsBetween(a, b):
            a, b = simplify(a), simplify(b)
            if _is_none(a) or _is_none(b):
                return Lit(None)
            new = type(node)(a, b)
            return _fold(new) if _is_const(a) and _is_const(b) else new
        case Count(over, where):
            where = simplify(where)
            if _is_const(where) and not where.value:
                return Lit(0)
            return Count(over, where)
        case CountDistinct(over, key, where):
            where, key = simplify(where), simplify(key)
            if (_is_const(where) and not where.value) or _is_none(key):
                return Lit(0)
            return CountDistinct(over, key, where)
        case IfThen(branches, default):
            kept_branches = []
            for c, v in branches:
                c, v = simplify(c), simplify(v)
                if _is_const(c):
                    if not c.value:
                        continue
                    if not kept_branches:
                        return v
                    return IfThen(tuple(kept_branches), v)
                kept_branches.append((c, v))
            default = simplify(default)
            return IfThen(tuple(kept_branches), default) if kept_branches else default
        case _:
            raise TypeError(f"cannot simplify {node!r}")


def _is_none(node: Expr) -> bool:
    return isinstance(node, Lit) and node.value is None


# --------------------------------------------------------------------------- bulk-only nodes
# Physical operators the planner introduces; they never appear in a pack.

WORD_BITS = 63  # packed counters share the 63 value bits of a signed 64-bit sum
CODE_BITS_PER_WORD = 62


def counter_bits(max_length: int | None) -> int:
    """Bits of one packed counter for lists of at most ``max_length`` records."""
    return max(1, int(max_length or 0).bit_length())


@dataclass(frozen=True, eq=True)
class CodeBits(Expr):
    """Bit word of a 4-digit code: bit ``k`` is set iff the code is in ``sets[k]``."""

    operand: Expr
    sets: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, eq=True)
class AnyBit(Expr):
    """Some bit of ``mask`` is set in the (never null) integer ``operand``."""

    operand: Expr
    mask: int


@dataclass(frozen=True, eq=True)
class Flag(Expr):
    """A precomputed, never-null boolean field of the current record."""

    name: str


@dataclass(frozen=True, eq=True)
class PackedCounts(Expr):
    """Counts of records of ``over`` satisfying each of ``wheres``, in one integer: count
    ``j`` in bits ``j * bits .. (j + 1) * bits - 1`` (no list is longer than 2**bits - 1)."""

    over: str
    wheres: tuple[Expr, ...]
    bits: int


@dataclass(frozen=True, eq=True)
class Unpack(Expr):
    """Counter ``index`` of a packed sum of ``bits``-bit counters."""

    packed: Expr
    index: int
    bits: int


@dataclass(frozen=True, eq=True)
class KeyList(Expr):
    """The non-null ``key`` values of the records of ``over`` satisfying ``where``."""

    over: str
    key: Expr
    where: Expr


@dataclass(frozen=True, eq=True)
class DistinctCount(Expr):
    """Number of distinct values of a list (of non-null keys)."""

    keys: Expr


_TWO_VALUED = (Cmp, InSet, Matches, IsNull, Not, And, Or, AnyBit, Flag)

# --------------------------------------------------------------------------- planning


def _var_column(name: str) -> str:
    return "v__" + re.sub(r"[^0-9A-Za-z]+", "_", name)


def _items_column(over: str) -> str:
    return "l__" + over


def _item_only(node: Expr) -> bool:
    """References offense fields and literals only (no case column, variable, quantifier)."""
    return all(not isinstance(n, (Col, Var, Count, CountDistinct, Param)) for n in walk(node))


def _is_code_set(node: Expr) -> bool:
    """``Item(string field) IN (4-digit codes)``: answerable from a code lookup table."""
    from securecomm.law.flatten import OFFENSE_FIELDS

    return (
        isinstance(node, InSet)
        and isinstance(node.operand, Item)
        and OFFENSE_FIELDS.get(node.operand.name, ("",))[0] == "string"
        and isinstance(node.values, Lit)
        and bool(node.values.value)
        and all(isinstance(v, str) and re.fullmatch(r"[0-9]{4}", v) for v in node.values.value)
    )


@dataclass
class _ListPlan:
    """One list column: the per-record fields computed once, and the packed counts."""

    leaves: dict[Expr, str] = field(default_factory=dict)  # item expression -> field
    code_sets: dict[Expr, list[tuple[str, ...]]] = field(default_factory=dict)
    raw: set[str] = field(default_factory=set)  # offense fields carried as they are
    packed: list[Expr] = field(default_factory=list)  # where of each packed count

    def leaf(self, node: Expr, lookup: bool) -> Expr:
        if lookup and _is_code_set(node):
            sets = self.code_sets.setdefault(node.operand, [])
            values = tuple(sorted(set(node.values.value)))
            if values not in sets:
                sets.append(values)
            i = sets.index(values)
            word = f"w{list(self.code_sets).index(node.operand)}_{i // CODE_BITS_PER_WORD}"
            return AnyBit(Item(word), 1 << (i % CODE_BITS_PER_WORD))
        return Flag(self.field(node, "p"))

    def field(self, node: Expr, prefix: str) -> str:
        if node not in self.leaves:
            self.leaves[node] = f"{prefix}{len(self.leaves)}"
        return self.leaves[node]

    def fields(self) -> dict[str, Expr]:
        """Struct field -> expression over one raw offense record."""
        out = {name: node for node, name in self.leaves.items()}
        for n, (operand, sets) in enumerate(self.code_sets.items()):
            for w in range(0, len(sets), CODE_BITS_PER_WORD):
                word = f"w{n}_{w // CODE_BITS_PER_WORD}"
                out[word] = CodeBits(operand, tuple(sets[w : w + CODE_BITS_PER_WORD]))
        for name in sorted(self.raw):
            out[name] = Item(name)
        return out


@dataclass
class Plan:
    """Trees rewritten for bulk evaluation; see the module docstring."""

    lists: dict[str, dict[str, Expr]]  # list column -> struct field -> item expression
    definitions: dict[str, Expr]  # variable / count name -> expression
    layers: list[list[str]]  # definitions grouped by dependency depth
    pre_action: list[tuple[str, Expr]]  # rule column -> condition
    post_action: list[tuple[str, Expr]]


class _Planner:
    def __init__(
        self,
        *,
        packed: bool,
        lookup: bool,
        keylists: bool,
        max_lengths: Mapping[str, int | None],
    ) -> None:
        self.packed, self.lookup, self.max_lengths = packed, lookup, max_lengths
        self.keylists = keylists
        self.lists: dict[str, _ListPlan] = {}
        self.hoisted: dict[Expr, str] = {}  # rewritten quantifier -> variable name

    def _bits(self, over: str) -> int:
        if over not in self.max_lengths:
            raise ValueError(f"packed counts need the longest length of list {over!r}")
        return counter_bits(self.max_lengths[over])

    def rewrite(self, node: Expr) -> Expr:
        """Replace every quantifier by a Var naming a de-duplicated count."""
        match node:
            case Count(over, where):
                lp = self.lists.setdefault(over, _ListPlan())
                exact = Count(_items_column(over), optimize_boolean(self._boolean(where, lp)))
                if _is_const(exact.where):  # count(list): its length
                    new: Expr = exact
                elif self.packed and not referenced(exact.where, Col) | referenced(
                    exact.where, Var
                ):
                    if exact.where not in lp.packed:
                        lp.packed.append(exact.where)
                    j = lp.packed.index(exact.where)
                    bits = self._bits(over)
                    per_word = WORD_BITS // bits
                    new = Unpack(Var(f"#packed:{over}:{j // per_word}"), j % per_word, bits)
                else:
                    new = exact
            case CountDistinct(over, key, where):
                lp = self.lists.setdefault(over, _ListPlan())
                if _item_only(key):
                    key_item: Expr = Item(lp.field(key, "k"))
                else:
                    key_item = self._keep_raw(key, lp)
                where = optimize_boolean(self._boolean(where, lp))
                if self.keylists:  # the key list is built once, counted without a distinct
                    keys = KeyList(_items_column(over), key_item, where)
                    if keys not in self.hoisted:
                        self.hoisted[keys] = f"#keys:{len(self.hoisted)}"
                    new = DistinctCount(Var(self.hoisted[keys]))
                else:
                    new = CountDistinct(_items_column(over), key_item, where)
            case _:
                return _map_children(node, self.rewrite)
        if new not in self.hoisted:
            self.hoisted[new] = f"#count:{len(self.hoisted)}"
        return Var(self.hoisted[new])

    def _boolean(self, node: Expr, lp: _ListPlan) -> Expr:
        """Boolean structure stays; each item-level leaf becomes one precomputed field."""
        match node:
            case Lit():
                return node
            case Not(o):
                return Not(self._boolean(o, lp))
            case And(ops):
                return And(tuple(self._boolean(o, lp) for o in ops))
            case Or(ops):
                return Or(tuple(self._boolean(o, lp) for o in ops))
            case _ if _item_only(node):
                return lp.leaf(node, self.lookup)
            case _:
                # a leaf mixing offense fields with case-level values: evaluated in the
                # quantifier's lambda; the offense fields it reads are carried along
                return self._keep_raw(self.rewrite(node), lp)

    @staticmethod
    def _keep_raw(node: Expr, lp: _ListPlan) -> Expr:
        lp.raw.update(referenced(node, Item))
        return node

    def packed_definitions(self) -> dict[str, Expr]:
        out: dict[str, Expr] = {}
        for over, lp in self.lists.items():
            if not lp.packed:
                continue
            bits = self._bits(over)
            per_word = WORD_BITS // bits
            for g in range(0, len(lp.packed), per_word):
                wheres = tuple(lp.packed[g : g + per_word])
                out[f"#packed:{over}:{g // per_word}"] = PackedCounts(
                    _items_column(over), wheres, bits
                )
        return out


def _map_children(node: Expr, fn) -> Expr:
    match node:
        case Not(o):
            return Not(fn(o))
        case IsNull(o):
            return IsNull(fn(o))
        case And(ops):
            return And(tuple(fn(o) for o in ops))
        case Or(ops):
            return Or(tuple(fn(o) for o in ops))
        case Cmp(op, a, b):
            return Cmp(op, fn(a), fn(b))
        case Add(a, b):
            return Add(fn(a), fn(b))
        case YearsBetween(a, b):
            return YearsBetween(fn(a), fn(b))
        case InSet(a, v):
            return InSet(fn(a), fn(v))
        case Matches(a, p):
            return Matches(fn(a), fn(p))
        case IfThen(branches, default):
            return IfThen(tuple((fn(c), fn(v)) for c, v in branches), fn(default))
        case _:
            if children(node):
                raise TypeError(f"cannot rewrite {node!r}")
            return node


def plan(
    bound: BoundPack,
    *,
    packed: bool = False,
    lookup: bool = True,
    keylists: bool = True,
    max_lengths: Mapping[str, int | None] | None = None,
) -> Plan:
    """Rewrite a bound pack for bulk evaluation (see the module doc). ``packed`` needs
    ``max_lengths``: the longest ``charges`` / ``convictions`` list of the data."""
    if packed and max_lengths is None:
        raise ValueError("plan(packed=True) needs max_lengths (see list_max_lengths)")
    planner = _Planner(
        packed=packed, lookup=lookup, keylists=keylists, max_lengths=max_lengths or {}
    )
    definitions: dict[str, Expr] = {}
    for name, expr in bound.variables.items():
        definitions[name] = planner.rewrite(simplify(expr))
    pre, post = [], []
    for rule in bound.rules:
        target = post if ACTION_VAR in referenced(rule.when, Var) else pre
        target.append((column_name(rule.id), planner.rewrite(simplify(rule.when))))
    for quantifier, name in planner.hoisted.items():
        definitions[name] = quantifier
    definitions.update(planner.packed_definitions())
    return Plan(
        lists={over: lp.fields() for over, lp in planner.lists.items()},
        definitions=definitions,
        layers=_layers(definitions),
        pre_action=pre,
        post_action=post,
    )


def _dependencies(node: Expr) -> set[str]:
    deps = set()
    for n in _walk_all(node):
        if isinstance(n, Var) and n.name != ACTION_VAR:
            deps.add(n.name)
    return deps


def _walk_all(node: Expr):
    """``expr.walk`` extended to the bulk-only nodes."""
    yield node
    match node:
        case Unpack(o, _, _) | DistinctCount(o):
            yield from _walk_all(o)
        case PackedCounts(_, wheres, _):
            for w in wheres:
                yield from _walk_all(w)
        case KeyList(_, key, where):
            yield from _walk_all(key)
            yield from _walk_all(where)
        case CodeBits(o, _) | AnyBit(o, _):
            yield from _walk_all(o)
        case _:
            for child in children(node):
                yield from _walk_all(child)


def _layers(definitions: Mapping[str, Expr]) -> list[list[str]]:
    depth: dict[str, int] = {}

    def visit(name: str, stack: tuple[str, ...] = ()) -> int:
        if name in depth:
            return depth[name]
        if name in stack:
            raise ValueError(f"variable cycle: {' -> '.join((*stack, name))}")
        deps = _dependencies(definitions[name])
        missing = sorted(d for d in deps if d not in definitions)
        if missing:
            raise ValueError(f"variable {name!r} refers to unknown {missing}")
        depth[name] = 1 + max((visit(d, (*stack, name)) for d in deps), default=-1)
        return depth[name]

    for name in definitions:
        visit(name)
    layers: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for name in definitions:
        layers[depth[name]].append(name)
    return layers


def optimize_boolean(node: Expr) -> Expr:
    """Cheaper, equivalent boolean structure over precomputed two-valued leaves.

    ``a | (b & x) | (b & y)`` -> ``a | (b & (x | y))`` (a shared conjunct is factored out);
    bit tests of one word under ``|`` merge into one mask test. Only used on trees whose
    leaves never are null (``Flag``, ``AnyBit``), where the two-valued laws hold.
    """
    match node:
        case Not(o):
            return Not(optimize_boolean(o))
        case And(ops):
            return simplify_flat(And(tuple(optimize_boolean(o) for o in ops)))
        case Or(ops):
            ops = tuple(optimize_boolean(o) for o in ops)
            return _merge_bits(_factor(simplify_flat(Or(ops))))
        case _:
            return node


def simplify_flat(node: Expr) -> Expr:
    """Flatten nested And / Or of the same kind, drop duplicates, unwrap singletons."""
    if not isinstance(node, (And, Or)):
        return node
    kind = type(node)
    kept: list[Expr] = []
    for o in node.operands:
        for x in o.operands if isinstance(o, kind) else (o,):
            if x not in kept:
                kept.append(x)
    if len(kept) == 1 and isinstance(kept[0], _TWO_VALUED):
        return kept[0]
    return kind(tuple(kept))


def _factor(node: Expr) -> Expr:
    if not isinstance(node, Or):
        return node
    terms = [t.operands if isinstance(t, And) else (t,) for t in node.operands]
    counts: dict[Expr, int] = {}
    for t in terms:
        for x in dict.fromkeys(t):
            counts[x] = counts.get(x, 0) + 1
    common, n = max(counts.items(), key=lambda kv: kv[1], default=(None, 0))
    if n < 2 or not isinstance(common, _TWO_VALUED):
        return node
    with_common = [tuple(x for x in t if x != common) for t in terms if common in t]
    others = [node.operands[i] for i, t in enumerate(terms) if common not in t]
    if any(not rest for rest in with_common):  # common | (common & x) == common
        factored: Expr = common
    else:
        rests = [rest[0] if len(rest) == 1 else And(rest) for rest in with_common]
        factored = simplify_flat(And((common, optimize_boolean(Or(tuple(rests))))))
    return simplify_flat(Or((*others, factored))) if others else factored


def _merge_bits(node: Expr) -> Expr:
    if not isinstance(node, Or):
        return node
    masks: dict[Expr, int] = {}
    others: list[Expr] = []
    for o in node.operands:
        if isinstance(o, AnyBit):
            masks[o.operand] = masks.get(o.operand, 0) | o.mask
        else:
            others.append(o)
    merged = [AnyBit(word, mask) for word, mask in masks.items()]
    return simplify_flat(Or((*others, *merged)))


# --------------------------------------------------------------------------- the compiler


def truth(value: ir.Value) -> ir.BooleanValue:
    """Python truthiness of a value as a two-valued boolean (null -> false)."""
    dtype = value.type()
    if dtype.is_boolean():
        return value.fill_null(False)
    if dtype.is_numeric():
        return (value != 0).fill_null(False)
    if dtype.is_string():
        return (value.length() > 0).fill_null(False)
    if dtype.is_null():
        return ibis.literal(False)
    raise TypeError(f"no truth value for a column of type {dtype}")


def _literal(value: Any) -> ir.Value:
    if value is None:
        return ibis.null()
    return ibis.literal(value)


def _yyyymmdd(day: ir.DateValue) -> ir.IntegerValue:
    return day.year().cast("int64") * 10000 + day.month().cast("int64") * 100 + day.day()


def _code_table(sets: tuple[tuple[str, ...], ...]) -> list[int]:
    table = [0] * 10000
    for bit, codes in enumerate(sets):
        for code in codes:
            table[int(code)] |= 1 << bit
    return table


_CMP = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
}


@dataclass(frozen=True)
class IbisCompiler:
    """Compiles a (planned) tree to an Ibis value over ``table``; ``item`` inside lambdas."""

    table: ir.Table
    item: ir.StructValue | None = None

    def at(self, item: ir.StructValue) -> IbisCompiler:
        return IbisCompiler(self.table, item)

    def predicate(self, node: Expr) -> ir.BooleanValue:
        """A node in a boolean context: two-valued, null is false."""
        value = self.compile(node)
        return value if isinstance(node, _TWO_VALUED) else truth(value)

    def compile(self, node: Expr) -> ir.Value:
        match node:
            case Lit(value):
                return _literal(value)
            case Col(name):
                return self.table[name]
            case Item(name):
                if self.item is None:
                    raise ValueError(f"Item({name!r}) outside a quantifier")
                return self.item[name]
            case Var(name):
                return self.table[ACTION_VAR if name == ACTION_VAR else _var_column(name)]
            case Param(name):
                raise ValueError(f"parameter {name!r} was not bound before compiling")
            case Not(o):
                return ~self.predicate(o)
            case And(ops):
                return _reduce(lambda a, b: a & b, (self.predicate(o) for o in ops))
            case Or(ops):
                return _reduce(lambda a, b: a | b, (self.predicate(o) for o in ops))
            case Cmp(op, a, b):
                return _CMP[op](self.compile(a), self.compile(b)).fill_null(False)
            case InSet(a, Lit(values)):
                return self.compile(a).isin(list(values)).fill_null(False)
            case Matches(a, Lit(pattern)):
                return self.compile(a).re_search(f"(?i){pattern}").fill_null(False)
            case IsNull(a):
                return self.compile(a).isnull()
            case Add(a, b):
                return self.compile(a) + self.compile(b)
            case YearsBetween(a, b):
                start, end = self.compile(a), self.compile(b)
                # ibis ``//`` is floor(x / y) on both backends: Python's floor division
                return (_yyyymmdd(end) - _yyyymmdd(start)) // 10000
            case Count(over, Lit(value)):
                n = self.table[over].length().fill_null(0)
                return n if value else n * 0
            case Count(over, where):
                kept = self.table[over].filter(lambda x: self.at(x).predicate(where))
                return kept.length().fill_null(0)
            case CountDistinct(over, key, where):

                def keep(x: ir.StructValue) -> ir.BooleanValue:
                    inner = self.at(x)
                    return inner.predicate(where) & inner.compile(key).notnull()

                keys = self.table[over].filter(keep).map(lambda x: self.at(x).compile(key))
                n = keys.length().fill_null(0)
                # most lists hold 0 or 1 matching record: skip the per-row distinct
                return ibis.ifelse(n <= 1, n, keys.unique().length())
            case IfThen(branches, default):
                pairs = [(self.predicate(c), self.compile(v)) for c, v in branches]
                otherwise = self.compile(default)
                typed = [v for v in [*(v for _, v in pairs), otherwise] if not v.type().is_null()]
                if typed:
                    dtype = typed[0].type()
                    pairs = [(c, v.cast(dtype)) for c, v in pairs]
                    otherwise = otherwise.cast(dtype)
                return ibis.cases(*pairs, else_=otherwise)
            # ---- bulk-only nodes
            case CodeBits(operand, sets):
                # bits of a canonical 4-digit code from a 10,000-entry table, without CASE:
                # constants inside DuckDB lambdas are rebuilt per chunk, and a CASE around
                # them multiplies that cost (measured); the table travels as one string
                # literal (an array literal of 10,000 elements costs ~1 s of SQL generation)
                code = self.compile(operand)
                i = code.try_cast("int64")
                k = ibis.least(ibis.greatest(i, -1), 10000)  # no overflow below
                # exact: "+101", " 101", "1.01", "0x1F" parse as numbers but are no codes;
                # only a canonical code equals the last 4 digits of its value + 10000
                exact = ((k + 10000).cast("string").substr(1, 4) == code).fill_null(False)
                table = ibis.literal(",".join(map(str, _code_table(sets)))).split(",")
                entry = table[ibis.least(ibis.greatest(k, 0), 9999).cast("int32")].cast("int64")
                return entry * exact.cast("int64")
            case AnyBit(operand, mask):
                return (self.compile(operand) & ibis.literal(mask, "int64")) != 0
            case Flag(name):
                if self.item is None:
                    raise ValueError(f"Flag({name!r}) outside a quantifier")
                return self.item[name]
            case PackedCounts(over, wheres, bits):

                def counters(x: ir.StructValue) -> ir.IntegerValue:
                    inner = self.at(x)
                    terms = [inner.predicate(w).cast("int64") for w in wheres]
                    terms = [
                        t if j == 0 else t * ibis.literal(1 << (bits * j), "int64")
                        for j, t in enumerate(terms)
                    ]
                    return _reduce(lambda a, b: a + b, terms)

                return self.table[over].map(counters).sums().cast("int64").fill_null(0)
            case Unpack(packed, index, bits):
                word = self.compile(packed)
                return (word >> (bits * index)) & ((1 << bits) - 1)
            case KeyList(over, key, where):

                def keep(x: ir.StructValue) -> ir.BooleanValue:
                    inner = self.at(x)
                    return inner.predicate(where) & inner.compile(key).notnull()

                return self.table[over].filter(keep).map(lambda x: self.at(x).compile(key))
            case DistinctCount(keys):
                values = self.compile(keys)
                n = values.length().fill_null(0)
                # most lists hold 0 or 1 matching record: skip the per-row distinct
                return ibis.ifelse(n <= 1, n, values.unique().length())
            case _:
                raise TypeError(f"cannot compile {node!r}")


def _reduce(fn, values: Iterable[ir.Value]) -> ir.Value:
    result = None
    for v in values:
        result = v if result is None else fn(result, v)
    if result is None:
        raise ValueError("empty And / Or")
    return result


def _any(values: Iterable[ir.BooleanValue]) -> ir.BooleanValue:
    return _reduce(lambda a, b: a | b, values)


# --------------------------------------------------------------------------- outcomes


def _add_item_lists(table: ir.Table, lists: Mapping[str, Mapping[str, Expr]]) -> ir.Table:
    """Map each list column once into structs of its precomputed per-record fields."""
    compiler = IbisCompiler(table)
    new = {}
    for over, fields in lists.items():

        def project(x: ir.StructValue, fields: Mapping[str, Expr] = fields) -> ir.StructValue:
            inner = compiler.at(x)
            values: dict[str, ir.Value] = {}
            for name, node in fields.items():
                values[name] = inner.predicate(node) if name[0] == "p" else inner.compile(node)
            return ibis.struct(values or {"p": ibis.literal(True)})

        new[_items_column(over)] = table[over].map(project)
    return table.mutate(**new) if new else table


def compile_outcomes(
    bound: BoundPack,
    table: ir.Table,
    *,
    max_lengths: Mapping[str, int | None] | None = None,
    packed: bool = False,
    lookup: bool = True,
    keylists: bool = True,
) -> ir.Table:
    """Outcome columns of ``CompiledPack.evaluate`` for every row of ``table``, plus
    ``conflict``. ``action`` / ``action_rule`` are null where no action rule applies or
    where the top applicable rank disagrees (``conflict``).

    ``lookup`` (code-set lookup table) and ``keylists`` (hoisted distinct-key lists) are on,
    ``packed`` (packed counters) is off by default; switched off, the plain formulation is the
    reference the tests compare against. The results are identical either way. ``packed``
    needs ``max_lengths``, the longest ``charges`` / ``convictions`` list of ``table``
    (``list_max_lengths``); when not given, one aggregate query computes it here.
    """
    if packed and max_lengths is None:
        max_lengths = list_max_lengths(table)
    p = plan(bound, packed=packed, lookup=lookup, keylists=keylists, max_lengths=max_lengths)
    _check_column_names(bound, p, table)
    t = _add_item_lists(table, p.lists)
    for layer in p.layers:
        compiler = IbisCompiler(t)
        t = t.mutate(**{_var_column(n): compiler.compile(p.definitions[n]) for n in layer})
    compiler = IbisCompiler(t)
    pre = {col: compiler.predicate(expr) for col, expr in p.pre_action}
    t = t.mutate(
        **pre,
        removable=compiler.predicate(Var("removable")),
        level=compiler.compile(Var("level")).cast("int32"),
    )
    action, action_rule, conflict = _resolve(t, bound)
    t = t.mutate(action=action, action_rule=action_rule, conflict=conflict)
    compiler = IbisCompiler(t)
    post = {col: compiler.predicate(expr) for col, expr in p.post_action}
    if post:
        t = t.mutate(**post)
    return t.select(
        "case_id", *pre, "removable", "level", "action", "action_rule", *post, "conflict"
    )


def _check_column_names(bound: BoundPack, p: Plan, table: ir.Table) -> None:
    """Spark resolves column names case-insensitively: no two may differ only by case."""
    names = [*table.columns, *(_items_column(o) for o in p.lists)]
    names += [_var_column(n) for n in p.definitions]
    names += [c for c in outcome_columns(bound) if c not in table.columns] + ["conflict"]
    seen: dict[str, str] = {}
    for name in names:
        other = seen.setdefault(name.lower(), name)
        if other != name:
            raise ValueError(f"columns {other!r} and {name!r} differ only by case")


LIST_COLUMNS = tuple(name for name, (kind, _) in CASE_COLUMNS.items() if kind == "list<offense>")


def list_max_lengths(table: ir.Table) -> dict[str, int | None]:
    """The longest list of each offense-list column (runs one aggregate query)."""
    lists = [c for c in LIST_COLUMNS if c in table.columns]
    if not lists:
        return {}
    row = table.aggregate(**{c: table[c].length().max() for c in lists}).to_pyarrow()
    return {c: row.column(c)[0].as_py() for c in lists}


def outcome_columns(bound: BoundPack) -> list[str]:
    """The outcome columns of ``compile_outcomes`` (and ``CompiledPack.evaluate``), in order."""
    pre = [column_name(r.id) for r in bound.rules if ACTION_VAR not in referenced(r.when, Var)]
    post = [column_name(r.id) for r in bound.rules if ACTION_VAR in referenced(r.when, Var)]
    return ["case_id", *pre, "removable", "level", "action", "action_rule", *post]


def _resolve(t: ir.Table, bound: BoundPack):
    """``engine.resolve_action`` as expressions: (action, action_rule, conflict)."""
    null_string = ibis.null().cast("string")
    if not bound.action_rules:
        return null_string, null_string, ibis.literal(False)
    action_cases, rule_cases, conflict_cases = [], [], []
    for rank in bound.ranks:
        at_rank = [r for r in bound.action_rules if r.rank == rank]
        outcomes = list(dict.fromkeys(r.outcome for r in at_rank))
        if len(outcomes) > 1:
            per_outcome = [
                _any(t[column_name(r.id)] for r in at_rank if r.outcome == o) for o in outcomes
            ]
            disagree = sum((x.cast("int32") for x in per_outcome), ibis.literal(0)) >= 2
        else:
            disagree = ibis.literal(False)
        first_action = ibis.cases(*[(t[column_name(r.id)], r.outcome) for r in at_rank])
        first_rule = ibis.cases(*[(t[column_name(r.id)], r.id) for r in at_rank])
        # the highest rank with any applicable rule decides — or conflicts
        any_fired = _any(t[column_name(r.id)] for r in at_rank)
        action_cases.append((any_fired, ibis.ifelse(disagree, null_string, first_action)))
        rule_cases.append((any_fired, ibis.ifelse(disagree, null_string, first_rule)))
        conflict_cases.append((any_fired, disagree))
    return (
        ibis.cases(*action_cases, else_=null_string),
        ibis.cases(*rule_cases, else_=null_string),
        ibis.cases(*conflict_cases, else_=False),
    )
