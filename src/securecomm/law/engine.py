"""The engine: a pack compiled once, deciding one case at a time (Python interpreter).

``CompiledPack.evaluate(record)`` computes the *outcome columns* of one flat case record: every
rule's firing, the level, the action and the rule that decided it. ``assemble_decision`` turns
outcome columns into Decision v1. The bulk evaluator computes the very same outcome columns
with Ibis (``securecomm.bulk``) and calls the same ``assemble_decision``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .expr import Expr, PythonCompiler, Var, bind_params, referenced
from .flatten import flatten_case
from .model import Pack, Rule
from .schema import Case, Decision, DecisiveRule, DiscretionFactors, LeaDisclosure, Reason


class PolicyError(Exception):
    """A decision cannot be made; the message names the case and the rules."""


class PolicyConflict(PolicyError):
    def __init__(self, case_id: str, rank: int, rules: list[Rule]):
        self.case_id, self.rank, self.rules = case_id, rank, rules
        listed = ", ".join(f"{r.id} -> {r.outcome}" for r in rules)
        super().__init__(f"case {case_id}: conflicting action rules at rank {rank}: {listed}")


class NoApplicableRule(PolicyError):
    def __init__(self, case_id: str, pack: str, rules: list[Rule]):
        self.case_id, self.rules = case_id, rules
        considered = ", ".join(r.id for r in rules) or "(none)"
        super().__init__(
            f"case {case_id}: no action rule of policy {pack!r} applies (considered: {considered})"
        )


class PackDefinitionError(ValueError):
    """The pack itself is inconsistent (unknown variable, cycle, duplicate rule id)."""


# The reason of the deciding action rule starts with this word, for the human reader. Programs
# read ``Decision.decisive_rule`` (v2); the prefix is only parsed for decisions stored before it.
DECISIVE = "Decisive"


def decisive_rule(reasons) -> str | None:
    """The rule id of the deciding action rule among a decision's reasons (``Reason`` objects or
    their JSON mappings); None if there is none. Prefer :func:`decisive_of` on the decision."""
    for r in reasons or ():
        rule, text = (r.get("rule"), r.get("text")) if isinstance(r, Mapping) else (r.rule, r.text)
        if str(text or "").startswith(DECISIVE):
            return rule
    return None


def decisive_of(decision: Decision | Mapping[str, Any] | None) -> DecisiveRule | None:
    """The deciding action rule of a decision (a ``Decision`` or its stored JSON mapping).

    v2 decisions carry it (``decisive_rule``). For a decision stored before v2, the rule is
    found by its reason's text and its safeguard / decline reason are those of the built-in
    rule of that id (a variant's own rule, unknown here, has neither)."""
    if decision is None:
        return None
    if isinstance(decision, Decision):
        if decision.decisive_rule is not None:
            return decision.decisive_rule
        reasons = decision.reasons
    else:
        stored = decision.get("decisive_rule")
        if isinstance(stored, Mapping):
            return DecisiveRule.model_validate(stored)
        reasons = decision.get("reasons")
    rule_id = decisive_rule(reasons)
    if rule_id is None:
        return None
    from .packs import RULE_LIBRARY  # packs import the rule modules, which import the engine's

    rule = RULE_LIBRARY.get(rule_id)
    if rule is None or rule.kind != "action":
        return None
    return _decisive(rule)


def _decisive(rule: Rule) -> DecisiveRule:
    return DecisiveRule(
        rule=rule.id,
        rank=rule.rank,
        outcome=rule.outcome,
        citation=rule.citation,
        safeguard=rule.safeguard,
        decline_reason=rule.decline_reason,
    )


def column_name(rule_id: str) -> str:
    """Outcome column of a rule: ``r__`` + the id with non-alphanumerics as ``_``."""
    return "r__" + re.sub(r"[^0-9A-Za-z]+", "_", rule_id)


@dataclass(frozen=True)
class BoundPack:
    """A pack with parameters bound into its expressions and its structure checked."""

    pack: Pack
    variables: dict[str, Expr]  # only those the rules need, bound
    rules: tuple[Rule, ...]  # ``when`` bound
    action_rules: tuple[Rule, ...]  # ordered by rank, highest first

    @property
    def ranks(self) -> list[int]:
        return sorted({r.rank for r in self.action_rules}, reverse=True)


def bind_pack(pack: Pack) -> BoundPack:
    values = {name: p.value for name, p in pack.parameters.items()}
    ids = [r.id for r in pack.rules]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise PackDefinitionError(f"pack {pack.name}: duplicate rule ids {sorted(dupes)}")
    cols = [column_name(i).lower() for i in ids]  # Spark column names are case-insensitive
    if len(set(cols)) != len(cols):
        raise PackDefinitionError(f"pack {pack.name}: rule ids collide as column names")
    try:
        rules = tuple(
            Rule(**{**r.__dict__, "when": bind_params(r.when, values)}) for r in pack.rules
        )
    except KeyError as exc:
        raise PackDefinitionError(f"pack {pack.name}: {exc.args[0]}") from None
    needed: dict[str, Expr] = {}
    # every variable the rules need, transitively, plus level and removable (always reported)
    pending = [n for r in rules for n in referenced(r.when, Var) if n != "action"]
    pending += ["level", "removable"]
    while pending:
        name = pending.pop()
        if name in needed:
            continue
        if name not in pack.variables:
            raise PackDefinitionError(f"pack {pack.name}: unknown variable {name!r}")
        needed[name] = bind_params(pack.variables[name], values)
        pending.extend(referenced(needed[name], Var))
    _check_acyclic(pack.name, needed)
    for r in rules:
        # disclosure follows the action (detainers are always delivered) and a supervisor
        # approves only an action that would hold someone (v2): both are computed after it
        if r.kind not in ("action", "disclosure", "suppression", "supervisor") and (
            "action" in referenced(r.when, Var)
        ):
            raise PackDefinitionError(
                f"rule {r.id}: only disclosure and supervisor rules may depend on the action"
            )
        if r.kind == "action" and "action" in referenced(r.when, Var):
            raise PackDefinitionError(f"rule {r.id}: an action rule cannot depend on the action")
    actions = tuple(sorted((r for r in rules if r.kind == "action"), key=lambda r: -r.rank))
    return BoundPack(pack, needed, rules, actions)


def _check_acyclic(pack_name: str, variables: Mapping[str, Expr]) -> None:
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            raise PackDefinitionError(
                f"pack {pack_name}: variable cycle {' -> '.join([*path, name])}"
            )
        state[name] = 1
        for dep in referenced(variables[name], Var):
            if dep in variables:
                visit(dep, [*path, name])
        state[name] = 2

    for name in variables:
        visit(name, [])


class CompiledPack:
    """A pack bound and compiled for single-case evaluation."""

    def __init__(self, pack: Pack):
        self.bound = bind_pack(pack)
        self.pack = pack
        compiled_vars: dict[str, Any] = {}
        compiler = PythonCompiler(compiled_vars)
        for name, expr in self.bound.variables.items():
            compiled_vars[name] = compiler.compile(expr)
        self._pre_action = [
            (column_name(r.id), compiler.compile(r.when))
            for r in self.bound.rules
            if "action" not in referenced(r.when, Var)
        ]
        self._post_action = [
            (column_name(r.id), compiler.compile(r.when))
            for r in self.bound.rules
            if "action" in referenced(r.when, Var)
        ]
        self._level = compiled_vars["level"]
        self._removable = compiled_vars["removable"]
        self._action_cols = [(column_name(r.id), r) for r in self.bound.action_rules]

    def evaluate(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Outcome columns of one flat record; raises PolicyConflict / NoApplicableRule."""
        env: dict[str, Any] = {}
        out: dict[str, Any] = {"case_id": record["case_id"]}
        for col, fn in self._pre_action:
            out[col] = bool(fn(record, None, env))
        out["removable"] = bool(self._removable(record, None, env))
        out["level"] = self._level(record, None, env)
        action, action_rule = resolve_action(
            record["case_id"], self.pack.name, [(r, out[col]) for col, r in self._action_cols]
        )
        out["action"], out["action_rule"] = action, action_rule
        env["action"] = action
        for col, fn in self._post_action:
            out[col] = bool(fn(record, None, env))
        return out

    def decide_record(self, record: Mapping[str, Any]) -> Decision:
        return assemble_decision(self.pack, self.bound, self.evaluate(record))

    def decide(self, case: Case) -> Decision:
        return self.decide_record(flatten_case(case))


def resolve_action(
    case_id: str, pack_name: str, applicable: list[tuple[Rule, bool]]
) -> tuple[str, str]:
    """Highest applicable rank decides; same-rank disagreement or nothing -> error."""
    fired = [r for r, on in applicable if on]
    if not fired:
        raise NoApplicableRule(case_id, pack_name, [r for r, _ in applicable])
    top = max(r.rank for r in fired)
    at_top = [r for r in fired if r.rank == top]
    if len({r.outcome for r in at_top}) > 1:
        raise PolicyConflict(case_id, top, at_top)
    return at_top[0].outcome, at_top[0].id


def assemble_decision(pack: Pack, bound: BoundPack, out: Mapping[str, Any]) -> Decision:
    """Decision v1 from outcome columns — shared by single-case and bulk evaluation."""
    rules = bound.rules
    fired = [r for r in rules if out[column_name(r.id)]]
    by_kind: dict[str, list[Rule]] = {}
    for r in fired:
        by_kind.setdefault(r.kind, []).append(r)
    level = out["level"]
    level = None if level is None else int(level)

    bases: list[str] = []
    for r in by_kind.get("priority", []):
        bases.append(r.label)
        if pack.priority_scheme == "morton-2011" and r.label == "1(b)" and level is not None:
            bases.append(f"level-{level}")
    priorities = [r.priority for r in by_kind.get("priority", [])]
    priority = min(priorities) if priorities else None

    suppressed = bool(by_kind.get("suppression"))
    delivered = [r for r in by_kind.get("disclosure", []) if r.always or not suppressed]
    fields = tuple(dict.fromkeys(r.field for r in delivered))

    decisive_id = out["action_rule"]
    actions = by_kind.get("action", [])
    decisive = [r for r in actions if r.id == decisive_id]
    others = [r for r in actions if r.id != decisive_id]
    top_rank = decisive[0].rank if decisive else None

    reasons = [
        Reason(rule=r.id, citation=r.citation, text=r.text) for r in by_kind.get("finding", [])
    ]
    reasons += [
        Reason(rule=r.id, citation=r.citation, text=r.text) for r in by_kind.get("priority", [])
    ]
    reasons += [
        Reason(rule=r.id, citation=r.citation, text=f"{DECISIVE} (rank {r.rank}): {r.text}")
        for r in decisive
    ]
    reasons += [
        Reason(
            rule=r.id,
            citation=r.citation,
            text=(
                f"Also applied, same rank and outcome as {decisive_id} (rank {r.rank}): {r.text}"
                if r.rank == top_rank
                else f"Also applied, outranked by {decisive_id} (rank {r.rank}): {r.text}"
            ),
        )
        for r in others
    ]
    for kind in ("supervisor", "suppression"):
        reasons += [
            Reason(rule=r.id, citation=r.citation, text=r.text) for r in by_kind.get(kind, [])
        ]
    reasons += [Reason(rule=r.id, citation=r.citation, text=r.text) for r in delivered]
    reasons += [
        Reason(rule=r.id, citation=r.citation, text=f"Discretion factor ({r.polarity}): {r.text}")
        for r in by_kind.get("factor", [])
    ]
    factors = by_kind.get("factor", [])
    return Decision(
        case_id=str(out["case_id"]),
        policy=pack.name,
        policy_version=pack.policy_version,
        removable=bool(out["removable"]),
        priority=priority,
        priority_bases=tuple(bases),
        level=level,
        action=out["action"],
        requires_supervisor_approval=bool(by_kind.get("supervisor")),
        lea_disclosure=LeaDisclosure(notify=bool(fields), fields=fields),
        discretion_factors=DiscretionFactors(
            positive=tuple(r.id.rsplit(".", 1)[1] for r in factors if r.polarity == "positive"),
            negative=tuple(r.id.rsplit(".", 1)[1] for r in factors if r.polarity == "negative"),
        ),
        reasons=tuple(reasons),
        decisive_rule=_decisive(decisive[0]) if decisive else None,
    )
