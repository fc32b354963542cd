"""Rule conditions written in a variant file, parsed safely into expression trees.

A condition is a small boolean formula in Python syntax, parsed with ``ast`` and never
evaluated as Python. Allowed:

- names of pack variables (``higher_category``, ``protected``, ``level`` …) and of scalar
  case columns (``flag_gang_member``, ``jurisdiction_honors_detainers`` …);
- ``and``, ``or``, ``not``, comparisons with literals (``level == 1``, ``age >= 65``,
  ``person_citizenship_status in ("parolee", "refugee_asylee")``);
- offense quantifiers over a category of ``offenses.CATEGORIES`` or ``aggravated_felony``:
  ``every_charge("minor_traffic")``, ``any_charge("minor_misdemeanor")``,
  ``every_charge("minor_traffic", "minor_misdemeanor")`` (each charge in any of them),
  ``any_conviction("felony")``, ``count_convictions("misdemeanor") >= 3``.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from . import offenses as off
from .expr import Col, Expr, Lit, Var, all_of, any_of, count, every, exists
from .flatten import CASE_COLUMNS
from .model import Rule
from .rules.common import convictions_where

_KINDS = ("finding", "priority", "action", "supervisor", "disclosure", "suppression", "factor")
_OUTCOMES = ("no_action", "no_detainer", "conditional_detainer", "detainer", "notification_request")
_CMP = {ast.Eq: "eq", ast.NotEq: "ne", ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge"}


def _category(name: str, where: str) -> Expr:
    if name == "aggravated_felony":
        return off.is_aggravated_felony()
    if name not in off.CATEGORIES:
        raise ValueError(
            f"{where}: unknown offense category {name!r}; known: {sorted(off.CATEGORIES)}"
        )
    return off.CATEGORIES[name][0]()


_QUANTIFIERS = {
    "every_charge": lambda c: every("charges", c),
    "any_charge": lambda c: exists("charges", c),
    "count_charges": lambda c: count("charges", c),
    "any_conviction": lambda c: convictions_where(c).ge(1),
    "count_convictions": convictions_where,
}


def parse_condition(text: str, where: str, variables: Mapping[str, Expr]) -> Expr:
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{where}: a non-empty condition string is required")
    if len(text) > 2000:
        raise ValueError(f"{where}: condition longer than 2000 characters")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"{where}: cannot parse condition: {exc.msg}") from None
    except (RecursionError, MemoryError):
        raise ValueError(f"{where}: condition nested too deeply") from None

    def literal(node: ast.AST) -> Any:
        try:
            value = ast.literal_eval(node)
        except (ValueError, SyntaxError):
            raise ValueError(f"{where}: comparisons take literal values") from None
        if isinstance(value, (list, set)):
            value = tuple(value)
        return value

    def conv(node: ast.AST) -> Expr:
        match node:
            case ast.BoolOp(op=ast.And(), values=values):
                return all_of(*(conv(v) for v in values))
            case ast.BoolOp(op=ast.Or(), values=values):
                return any_of(*(conv(v) for v in values))
            case ast.UnaryOp(op=ast.Not(), operand=operand):
                return ~conv(operand)
            case ast.Constant(value=bool() as value):
                return Lit(value)
            case ast.Name(id=name):
                if name in variables:
                    return Var(name)
                if name in CASE_COLUMNS and CASE_COLUMNS[name][0] != "list<offense>":
                    return Col(name)
                raise ValueError(f"{where}: unknown name {name!r}")
            case ast.Call(func=ast.Name(id=fn), args=args, keywords=[]) if args:
                if fn not in _QUANTIFIERS:
                    raise ValueError(
                        f"{where}: unknown function {fn!r}; known: {sorted(_QUANTIFIERS)}"
                    )
                if not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args):
                    raise ValueError(f"{where}: {fn}() takes offense category names as strings")
                # several categories: an offense in any of them
                return _QUANTIFIERS[fn](any_of(*(_category(a.value, where) for a in args)))
            case ast.Compare(left=left, ops=[op], comparators=[right]):
                lhs = conv(left)
                if isinstance(op, ast.In):
                    return lhs.isin(literal(right))
                if isinstance(op, ast.NotIn):
                    return ~lhs.isin(literal(right))
                if type(op) not in _CMP:
                    raise ValueError(f"{where}: unsupported comparison")
                return getattr(lhs, _CMP[type(op)])(literal(right))
            case _:
                raise ValueError(f"{where}: unsupported syntax ({type(node).__name__})")

    try:
        return conv(tree.body)
    except RecursionError:
        raise ValueError(f"{where}: condition nested too deeply") from None


def parse_rule_definition(
    definition: Any,
    where: str,
    variables: Mapping[str, Expr],
    rule_id: str | None,
    inherited: Mapping[str, Any] | None = None,
) -> Rule:
    """A rule from a variant definition. ``inherited``: the ``safeguard`` and ``decline_reason``
    of the rule it replaces, kept unless the definition gives its own (a replaced safeguard rule
    stays a safeguard; its decline reason stays while its outcome is no_detainer)."""
    if not isinstance(definition, Mapping):
        raise ValueError(f"{where}: a rule definition must be a mapping")
    allowed = {"id", "kind", "when", "citation", "text", "outcome", "rank", "label", "priority",
               "field", "always", "polarity", "safeguard", "decline_reason"}  # fmt: skip
    unknown = set(definition) - allowed
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {sorted(unknown)}")
    rid = definition.get("id", rule_id)
    if not isinstance(rid, str) or not rid:
        raise ValueError(f"{where}.id: required")
    kind = definition.get("kind", "action")
    if kind not in _KINDS:
        raise ValueError(f"{where}.kind: one of {_KINDS}")
    for key in ("citation", "text"):
        if not isinstance(definition.get(key), str) or not definition[key].strip():
            raise ValueError(
                f"{where}.{key}: required — every rule carries its source and a sentence"
            )
    outcome, rank = definition.get("outcome"), definition.get("rank")
    safeguard = definition.get("safeguard", inherited.get("safeguard") if inherited else None)
    decline = definition.get("decline_reason")
    if decline is None and inherited and outcome == "no_detainer":
        decline = inherited.get("decline_reason")
    if safeguard is not None and (not isinstance(safeguard, str) or not safeguard.strip()):
        raise ValueError(f"{where}.safeguard: a non-empty sentence")
    if kind == "action":
        if outcome not in _OUTCOMES:
            raise ValueError(f"{where}.outcome: one of {_OUTCOMES}")
        if isinstance(rank, bool) or not isinstance(rank, int) or not 0 <= rank <= 1000:
            raise ValueError(f"{where}.rank: an integer 0..1000")
    try:
        return Rule(
            id=rid,
            kind=kind,
            when=parse_condition(definition.get("when", ""), f"{where}.when", variables),
            citation=definition["citation"],
            text=definition["text"],
            outcome=outcome,
            rank=rank,
            label=definition.get("label"),
            priority=definition.get("priority"),
            field=definition.get("field"),
            always=bool(definition.get("always", False)),
            polarity=definition.get("polarity"),
            safeguard=safeguard if kind == "action" else None,
            decline_reason=decline if kind == "action" else None,
        )
    except ValueError as exc:
        message = str(exc)
        raise ValueError(message if message.startswith(where) else f"{where}: {message}") from None
