"""The shapes of policy as code: variables, rules, packs.

A *variable* is a named expression computed once per case (counts, ages, the criminal level).
A *rule* is a cited, plain-language statement with a condition; when its condition holds it
*fires* and appears in the decision's reasons. Rules have a ``kind`` that says what firing does:

- ``finding``: a fact established about the case (removability ground, level, protection …);
- ``priority``: an enforcement-priority basis (label such as "1(b)", priority "1");
- ``action``: proposes ``outcome`` with precedence ``rank`` (highest applicable rank decides);
- ``supervisor``: firing requires supervisor approval;
- ``disclosure``: firing discloses ``field`` to the LEA; ``suppression`` withholds all hit
  information (overridden only by the always-delivered detainer / notification fields);
- ``factor``: a discretion factor (``polarity`` positive / negative), listed, never decisive.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from .expr import Expr

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
