"""The shapes of policy as code: variables, rules, packs.

A *variable* is a named expression computed once per case (counts, ages, the criminal level).
A *rule* is a cited, plain-language statement with a condition; when its condition holds it
*fires* and appears in the decision's reasons. Rules have a ``kind`` that says what firing does:

- ``finding``: a fact established about the case (removability ground, level, protection …);
- ``priority``: an enforcement-priority basis (label such as "1(b)", priority "1");
- ``action``: proposes ``outcome`` with precedence ``rank`` (highest applicable rank decides);
  an action rule that withholds or softens enforcement carries a ``safeguard`` (what an officer
  removes by overriding it to a more severe action: a supervisor must approve, report IV rec. 2)
  and, when its outcome is ``no_detainer``, a ``decline_reason`` (one of ``DECLINE_REASONS``, the
  published statistics' category). Both are fields of the rule, so a variant that keeps or
  replaces the rule keeps them;
- ``supervisor``: firing requires supervisor approval;
- ``disclosure``: firing discloses ``field`` to the LEA; ``suppression`` withholds all hit
  information (overridden only by the always-delivered detainer / notification fields);
- ``factor``: a discretion factor (``polarity`` positive / negative), listed, never decisive.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from .expr import Expr

#: Why a removable person got no detainer, as the monthly statistics publish it (I rec. 4).
DECLINE_REASONS = ("minor_traffic", "minor_misdemeanor", "protected_person", "not_a_priority")

RuleKind = Literal[
    "finding", "priority", "action", "supervisor", "disclosure", "suppression", "factor"
]


@dataclass(frozen=True)
class Rule:
    id: str
    kind: RuleKind
    when: Expr
    citation: str
    text: str
    outcome: str | None = None  # action rules
    rank: int | None = None  # action rules: higher wins
    label: str | None = None  # priority rules: the basis label, e.g. "1(b)"
    priority: str | None = None  # priority rules: "1" | "2" | "3"
    field: str | None = None  # disclosure rules: the disclosed field
    always: bool = False  # disclosure rules delivered even when suppressed or opted out
    polarity: str | None = None  # factor rules: positive | negative
    safeguard: str | None = None  # action rules: the safeguard an upward override removes
    decline_reason: str | None = None  # no_detainer action rules: a DECLINE_REASONS category

    def __post_init__(self) -> None:
        required = {
            "action": ("outcome", "rank"),
            "priority": ("label", "priority"),
            "disclosure": ("field",),
            "factor": ("polarity",),
        }.get(self.kind, ())
        for name in required:
            if getattr(self, name) is None:
                raise ValueError(f"rule {self.id!r} of kind {self.kind} needs {name!r}")
        if (self.safeguard is not None or self.decline_reason is not None) and (
            self.kind != "action"
        ):
            raise ValueError(f"rule {self.id!r}: only action rules have a safeguard or decline")
        if self.decline_reason is not None:
            if self.decline_reason not in DECLINE_REASONS:
                raise ValueError(
                    f"rule {self.id!r}: decline_reason one of {DECLINE_REASONS}, "
                    f"got {self.decline_reason!r}"
                )
            if self.outcome != "no_detainer":
                raise ValueError(f"rule {self.id!r}: a decline reason needs outcome no_detainer")


@dataclass(frozen=True)
class Pack:
    """A policy pack: variables + rules + dated parameters (see ``packs.py``)."""

    name: str
    version: str
    title: str
    citation: str
    description: str
    variables: dict[str, Expr]
    rules: tuple[Rule, ...]
    parameters: dict[str, Any]  # name -> parameters.Parameter
    priority_scheme: str  # "morton-2011" | "johnson-2014"
    base: str | None = None  # for variants: the pack it overlays
    variant_digest: str | None = None
    notes: tuple[str, ...] = field(default=())

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(f"pack {self.name!r} has no rule {rule_id!r}")

    def with_changes(self, **changes: Any) -> Pack:
        return replace(self, **changes)

    @property
    def policy_version(self) -> str:
        return (
            self.version if self.variant_digest is None else f"{self.version}+{self.variant_digest}"
        )
