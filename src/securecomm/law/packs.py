"""The four policy packs (DESIGN 3.6) and user variants (overlays, like OpenFisca reforms)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from .expr import Expr
from .model import Pack, Rule
from .parameters import DEFAULTS, JOHNSON, JOHNSON_PEP, TF, Parameter
from .rules import (
    actions,
    common,
    disclosure,
    discretion,
    levels,
    priorities_johnson,
    priorities_morton,
    protections,
    removability,
)

# 2.0.0: policy specification v2 (code decides the offense category, nothing to condition on,
# priorities only for removable non-citizens, PEP 1(c) by conviction, Johnson 1(d) and 2(c),
# juvenile adjudications, no hit information on any citizen, supervisor only when holding).
PACK_VERSION = "2.0.0"

VARIABLES: dict[str, Expr] = {
    **common.VARIABLES,
    **removability.VARIABLES,
    **levels.VARIABLES,
    **priorities_morton.VARIABLES,
    **priorities_johnson.VARIABLES,
    **protections.VARIABLES,
}

_FINDINGS = (*removability.RULES, *levels.RULES, *protections.RULES)
_TAIL = (*disclosure.RULES, *discretion.RULES)


def _params(**overrides: tuple[Any, str, str]) -> dict[str, Parameter]:
    """DEFAULTS with (value, citation, rationale) overrides; keys use '__' for '.'."""
    params = dict(DEFAULTS)
    for key, (value, citation, rationale) in overrides.items():
        name = key.replace("__", ".")
        params[name] = params[name].with_value(value, citation=citation, rationale=rationale)
    return params


_NO_MINOR_TRAFFIC = (
    False,
    f"{TF} II rec. 1, III.1",
    "The Task Force asks that minor traffic offenses not drive enforcement; they do not count.",
)


def _morton() -> Pack:
    return Pack(
        name="morton-2011",
        version=PACK_VERSION,
        title="Status quo at the report's date (Morton memos of March 2 and June 17, 2011)",
        citation="Morton memos, March 2 and June 17, 2011; HSAC Task Force report II.1, II.2",
        description="Priorities and victim/witness protections of 2011; otherwise every "
        "removable person gets a detainer (status-quo practice, II.1).",
        variables=VARIABLES,
        rules=(
            *_FINDINGS,
            *priorities_morton.RULES,
            *actions.COMMON,
            actions.MORTON_NATIONAL_SECURITY,
            actions.MORTON_PRIORITY,
            actions.MORTON_BASE,
            *_TAIL,
        ),
        parameters=_params(),
        priority_scheme="morton-2011",
    )


def _tfsc(strict: bool) -> Pack:
    pack_rules = (
        (actions.TFSC_STRICT_MISDEMEANOR,)
        if strict
        else (actions.TFSC_CONDITIONAL, actions.TFSC_NOTHING_TO_CONDITION_ON)
    )
    return Pack(
        name="tfsc-2011-strict" if strict else "tfsc-2011",
        version=PACK_VERSION,
        title=(
            "Task Force minority view: no detainers on misdemeanors posing no public-safety risk"
            if strict
            else "Task Force consensus (HSAC Task Force on Secure Communities, Sept. 2011)"
        ),
        citation=f"{TF} III rec. 1, IV rec. 2, IV rec. 3",
        description="Morton 2011 plus: no detainers on minor-traffic-only arrests; "
        + (
            "no detainers on misdemeanor arrests posing no public-safety risk (minority view); "
            if strict
            else "conditional (post-conviction) detainers on pending minor misdemeanors, none "
            "once they are dismissed or acquitted; "
        )
        + "no hit information on any citizen; supervisor approval before holding a protected "
        "person with an aggravating factor.",
        variables=VARIABLES,
        rules=(
            *_FINDINGS,
            *priorities_morton.RULES,
            *actions.COMMON,
            actions.MORTON_NATIONAL_SECURITY,
            actions.TFSC_MINOR_TRAFFIC,
            *pack_rules,
            actions.MORTON_PRIORITY,
            actions.MORTON_BASE,
            actions.TFSC_SUPERVISOR,
            disclosure.CITIZEN_SUPPRESSION,
            *_TAIL,
        ),
        parameters=_params(levels__count_minor_traffic=_NO_MINOR_TRAFFIC),
        priority_scheme="morton-2011",
    )


def _pep() -> Pack:
    return Pack(
        name="pep-2014",
        version=PACK_VERSION,
        title="Priority Enforcement Program (Johnson memos, Nov. 20, 2014)",
        citation=f"{JOHNSON}; {JOHNSON_PEP}",
        description="Detainers (or notification requests where detainers are not honored) only "
        "for PEP transfer priorities; everyone else no detainer, priority still reported.",
        variables=VARIABLES,
        rules=(
            *_FINDINGS,
            *priorities_johnson.RULES,
            *actions.COMMON,
            actions.PEP_DETAINER,
            actions.PEP_NOTIFICATION,
            actions.PEP_BASE,
            *_TAIL,
        ),
        parameters=_params(
            levels__count_minor_traffic=(
                False,
                f"{JOHNSON} 2(a)",
                "Johnson excludes minor traffic offenses from the misdemeanor counts.",
            )
        ),
        priority_scheme="johnson-2014",
    )


PACKS: dict[str, Pack] = {p.name: p for p in (_morton(), _tfsc(False), _tfsc(True), _pep())}

# Rules a variant may swap in by id (besides the rules of its base pack).
RULE_LIBRARY: dict[str, Rule] = {r.id: r for pack in PACKS.values() for r in pack.rules}


class VariantError(ValueError):
    """A policy variant is malformed; the message names the offending key."""


def get_pack(name: str) -> Pack:
    try:
        return PACKS[name]
    except KeyError:
        raise VariantError(f"policy: unknown pack {name!r}; known: {', '.join(PACKS)}") from None


def apply_variant(spec: Mapping[str, Any]) -> Pack:
    """Build a variant from a parsed YAML mapping (see docs/policy-variants.md).

    Keys: ``name``, ``base`` (a pack), optional ``description``, ``parameters`` (name ->
    {value, citation, rationale} or a bare value), ``disable_rules`` (ids), ``add_rules``
    (ids from the rule library, or full definitions with a ``when`` expression over the
    pack's variables, see ``law.variant_expr``), ``replace_rules`` (id -> definition).
    """
    allowed = {
        "name",
        "base",
        "description",
        "parameters",
        "disable_rules",
        "add_rules",
        "replace_rules",
    }
    unknown = set(spec) - allowed
    if unknown:
        raise VariantError(f"variant: unknown key(s) {sorted(unknown)}; allowed {sorted(allowed)}")
    for key in ("name", "base"):
        if not isinstance(spec.get(key), str) or not spec[key]:
            raise VariantError(f"variant.{key}: required, a non-empty string")
    if spec["name"] in PACKS:
        raise VariantError(
            f"variant.name: {spec['name']!r} is a built-in pack; choose another name"
        )
    shapes = {
        "parameters": Mapping,
        "replace_rules": Mapping,
        "disable_rules": list,
        "add_rules": list,
    }
    for key, shape in shapes.items():
        if spec.get(key) is not None and not isinstance(spec[key], shape):
            kind = "a mapping" if shape is Mapping else "a list"
            raise VariantError(f"variant.{key}: must be {kind}, got {type(spec[key]).__name__}")
    base = get_pack(spec["base"])
    params = dict(base.parameters)
    for name, value in (spec.get("parameters") or {}).items():
        if name not in params:
            raise VariantError(f"variant.parameters.{name}: unknown parameter")
        old = params[name]
        if isinstance(value, Mapping):
            extra = set(value) - {"value", "citation", "rationale"}
            if "value" not in value or extra:
                raise VariantError(
                    f"variant.parameters.{name}: give value, citation, rationale (got {sorted(value)})"
                )
            new_value, citation = value["value"], value.get("citation", old.citation)
            rationale = value.get("rationale", f"variant {spec['name']}")
            for key, text in (("citation", citation), ("rationale", rationale)):
                if not isinstance(text, str) or not text.strip():
                    raise VariantError(f"variant.parameters.{name}.{key}: a non-empty string")
        else:
            new_value, citation, rationale = value, old.citation, f"variant {spec['name']}"
        new_value = _coerce(name, old.value, new_value)
        if old.choices is not None:
            unknown = [v for v in new_value if v not in old.choices]
            if unknown:
                raise VariantError(
                    f"variant.parameters.{name}: unknown value(s) {unknown}; allowed {list(old.choices)}"
                )
        params[name] = old.with_value(new_value, citation=citation, rationale=rationale)
    rules = list(base.rules)
    ids = [r.id for r in rules]
    for rule_id in spec.get("disable_rules") or []:
        if not isinstance(rule_id, str) or rule_id not in ids:
            raise VariantError(f"variant.disable_rules: {rule_id!r} is not a rule of {base.name}")
        rules = [r for r in rules if r.id != rule_id]
        ids.remove(rule_id)
    for rule_id, definition in (spec.get("replace_rules") or {}).items():
        if not isinstance(rule_id, str) or rule_id not in ids:
            raise VariantError(f"variant.replace_rules: {rule_id!r} is not a rule of {base.name}")
        replaced = rules[ids.index(rule_id)]
        inherited = {"safeguard": replaced.safeguard, "decline_reason": replaced.decline_reason}
        new = _parse_rule(definition, f"variant.replace_rules.{rule_id}", rule_id, inherited)
        rules[ids.index(rule_id)] = new
        ids[ids.index(rule_id)] = new.id
    for i, item in enumerate(spec.get("add_rules") or []):
        where = f"variant.add_rules[{i}]"
        if isinstance(item, str):
            if item not in RULE_LIBRARY:
                raise VariantError(f"{where}: no rule {item!r} in the rule library")
            new = RULE_LIBRARY[item]
        else:
            new = _parse_rule(item, where, None)
        if new.id in ids:
            raise VariantError(f"{where}: rule {new.id!r} already in the pack")
        rules.append(new)
        ids.append(new.id)
    canonical = json.dumps(spec, sort_keys=True, default=str).encode()
    return base.with_changes(
        name=spec["name"],
        description=spec.get("description", f"variant of {base.name}"),
        rules=tuple(rules),
        parameters=params,
        base=base.name,
        variant_digest=hashlib.sha256(canonical).hexdigest()[:12],
    )


def _parse_rule(
    definition: Any, where: str, rule_id: str | None, inherited: Mapping[str, Any] | None = None
) -> Rule:
    from .variant_expr import parse_rule_definition

    try:
        return parse_rule_definition(definition, where, VARIABLES, rule_id, inherited)
    except VariantError:
        raise
    except ValueError as exc:
        raise VariantError(str(exc)) from None


def _coerce(name: str, old: Any, new: Any) -> Any:
    """Keep a parameter's type: a variant cannot turn a number into a list by accident."""
    import datetime as dt

    if isinstance(old, bool):
        if not isinstance(new, bool):
            raise VariantError(f"variant.parameters.{name}: expected true/false, got {new!r}")
        return new
    if isinstance(old, int):
        if isinstance(new, bool) or not isinstance(new, int):
            raise VariantError(f"variant.parameters.{name}: expected an integer, got {new!r}")
        return new
    if isinstance(old, dt.date):
        if isinstance(new, dt.date):
            return new
        try:
            return dt.date.fromisoformat(str(new))
        except ValueError:
            raise VariantError(f"variant.parameters.{name}: expected a date, got {new!r}") from None
    if isinstance(old, tuple):
        if not isinstance(new, (list, tuple)) or not all(isinstance(x, str) for x in new):
            raise VariantError(
                f"variant.parameters.{name}: expected a list of strings, got {new!r}"
            )
        return tuple(new)
    if isinstance(old, str):
        if not isinstance(new, str):
            raise VariantError(f"variant.parameters.{name}: expected a string, got {new!r}")
        if name.endswith("_pattern"):
            import re

            try:
                re.compile(new)
            except re.error as exc:
                raise VariantError(f"variant.parameters.{name}: bad pattern: {exc}") from None
            if re.search(r"\(\?<?[=!]|\\[1-9]|\(\?P=", new):
                raise VariantError(
                    f"variant.parameters.{name}: lookarounds and backreferences are not "
                    "supported by the bulk engines (RE2 / Java subset)"
                )
        return new
    raise VariantError(f"variant.parameters.{name}: cannot override")


def safeguard_rules() -> dict[str, str]:
    """Rule id -> safeguard of every built-in action rule that has one."""
    return {r.id: r.safeguard for r in RULE_LIBRARY.values() if r.safeguard}


def decline_reasons_by_rule() -> dict[str, str]:
    """Rule id -> decline reason (``model.DECLINE_REASONS``) of every built-in no-detainer rule
    that has one; a decision names its own in ``decisive_rule.decline_reason``."""
    return {r.id: r.decline_reason for r in RULE_LIBRARY.values() if r.decline_reason}
