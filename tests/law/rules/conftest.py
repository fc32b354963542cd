"""Shared case builder and decision helpers for the rule scenario tests (tests/law/rules/).

Every scenario starts from ``BASE_CASE`` — a minimal valid Case v1: a person who entered
without inspection in 2000 (removable, not a recent entrant), no charges, no convictions, no
flags, decided on 2011-10-03 (just after the Task Force report) in a jurisdiction that asks
for full information and honors detainers — and applies overrides (nested dicts are merged,
lists and scalars replaced).

Fixtures are the only way test modules share code (tests never import each other):

- ``make_case(**overrides) -> Case``
- ``decide(pack, case=None, **overrides) -> Decision`` — pack is a name or a Pack; every
  decision is checked for the universal invariants (every reason cited, Decision v1 valid)
- ``decide_all(**overrides) -> {pack name: Decision}``
- ``expect(decision, **fields)`` — asserts the named Decision fields and that the named rule
  ids appear (or not) in ``decision.reasons`` with a non-empty citation
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from securecomm.law.engine import CompiledPack
from securecomm.law.model import Pack
from securecomm.law.packs import PACKS
from securecomm.law.schema import Case, Decision

PACK_NAMES = ("morton-2011", "tfsc-2011", "tfsc-2011-strict", "pep-2014")
TFSC_PACKS = ("tfsc-2011", "tfsc-2011-strict")

BASE_CASE: dict[str, Any] = {
    "case_id": "t-0001",
    "decided_at": "2011-10-03T10:00:00-06:00",
    "program": "secure_communities",
    "jurisdiction": {
        "ori": "CO0010000",
        "state": "CO",
        "county_fips": "08001",
        "timezone": "America/Denver",
        "disclosure": "full",
        "honors_detainers": True,
    },
    "person": {
        "birth_date": "1980-01-01",
        "citizenship_status": "entered_without_inspection",
        "entered_us_on": "2000-01-01",
        "entry": "without_inspection",
    },
    "arrest": {"arrested_at": "2011-10-02T22:00:00-06:00", "charges": []},
    "convictions": [],
    "flags": {},
}

_MISSING = object()


def _merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(dict(base))
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def build_case_dict(**overrides: Any) -> dict[str, Any]:
    return _merge(BASE_CASE, overrides)


_COMPILED: dict[str, CompiledPack] = {}


def _compiled(pack: str | Pack) -> CompiledPack:
    if isinstance(pack, Pack):
        return CompiledPack(pack)
    if pack not in _COMPILED:
        _COMPILED[pack] = CompiledPack(PACKS[pack])
    return _COMPILED[pack]


def check_invariants(decision: Decision) -> None:
    """What every Decision v1 must satisfy, whatever the case."""
    assert decision.reasons, "a decision always explains itself"
    for reason in decision.reasons:
        assert reason.rule.strip(), reason
        assert reason.citation.strip(), f"reason {reason.rule} has no citation"
        assert reason.text.strip(), f"reason {reason.rule} has no text"
    # exactly one decisive action rule
    decisive = [r for r in decision.reasons if r.text.startswith("Decisive")]
    assert len(decisive) == 1, [r.rule for r in decisive]
    # v2: the decisive rule is also a structured field, the same rule
    assert decision.decisive_rule is not None
    assert decision.decisive_rule.rule == decisive[0].rule
    assert decision.decisive_rule.outcome == decision.action
    assert decision.decisive_rule.citation == decisive[0].citation
    if decision.decisive_rule.decline_reason is not None:
        assert decision.action == "no_detainer"
    # v2: user-visible text cites source documents, never the design brief
    for reason in decision.reasons:
        assert "DESIGN" not in reason.citation and "DESIGN" not in reason.text, reason.rule
    # v2: supervisor approval only where the action would hold someone (3.5, IV rec. 2)
    if decision.requires_supervisor_approval:
        assert decision.action in ("detainer", "conditional_detainer", "notification_request")
    # v2: priorities only for removable non-citizens (3.4)
    if not decision.removable:
        assert decision.priority is None and decision.priority_bases == ()
    # priority is the highest (numerically lowest) of the listed bases' priorities
    if decision.priority is None:
        assert decision.priority_bases == ()
    else:
        assert decision.priority_bases
    # the disclosure notice is consistent
    assert decision.lea_disclosure.notify == bool(decision.lea_disclosure.fields)
    # the always-delivered requests follow the action
    fields = decision.lea_disclosure.fields
    if decision.action in ("detainer", "conditional_detainer"):
        assert "detainer" in fields
    else:
        assert "detainer" not in fields
    if decision.action == "notification_request":
        assert "notification_request" in fields
    else:
        assert "notification_request" not in fields
    # not removable -> no enforcement action
    if not decision.removable:
        assert decision.action == "no_action"
    # Decision v1 round-trips through its own schema
    assert Decision.model_validate_json(decision.model_dump_json()) == decision


@pytest.fixture(scope="session")
def make_case() -> Callable[..., Case]:
    def _make(**overrides: Any) -> Case:
        return Case.model_validate(build_case_dict(**overrides))

    return _make


@pytest.fixture(scope="session")
def case_dict() -> Callable[..., dict[str, Any]]:
    return build_case_dict


@pytest.fixture(scope="session")
def decide() -> Callable[..., Decision]:
    def _decide(pack: str | Pack, case: Case | None = None, **overrides: Any) -> Decision:
        if case is None:
            case = Case.model_validate(build_case_dict(**overrides))
        else:
            assert not overrides, "give a case or overrides, not both"
        decision = _compiled(pack).decide(case)
        check_invariants(decision)
        return decision

    return _decide


@pytest.fixture(scope="session")
def decide_all(decide) -> Callable[..., dict[str, Decision]]:
    def _decide_all(**overrides: Any) -> dict[str, Decision]:
        case = Case.model_validate(build_case_dict(**overrides))
        return {name: decide(name, case) for name in PACK_NAMES}

    return _decide_all


def _reason_ids(decision: Decision) -> list[str]:
    return [r.rule for r in decision.reasons]


@pytest.fixture(scope="session")
def expect() -> Callable[..., None]:
    def _expect(
        decision: Decision,
        *,
        action: Any = _MISSING,
        removable: Any = _MISSING,
        priority: Any = _MISSING,
        bases: Any = _MISSING,
        level: Any = _MISSING,
        supervisor: Any = _MISSING,
        fields: Any = _MISSING,
        positive: Any = _MISSING,
        negative: Any = _MISSING,
        has_positive: tuple[str, ...] = (),
        has_negative: tuple[str, ...] = (),
        rules: tuple[str, ...] = (),
        not_rules: tuple[str, ...] = (),
        decisive: Any = _MISSING,
        outranked: tuple[str, ...] = (),
    ) -> None:
        ids = _reason_ids(decision)
        where = f"{decision.policy}: {ids}"
        if action is not _MISSING:
            assert decision.action == action, where
        if removable is not _MISSING:
            assert decision.removable is removable, where
        if priority is not _MISSING:
            assert decision.priority == priority, where
        if bases is not _MISSING:
            assert set(decision.priority_bases) == set(bases), decision.priority_bases
        if level is not _MISSING:
            assert decision.level == level, where
        if supervisor is not _MISSING:
            assert decision.requires_supervisor_approval is supervisor, where
        if fields is not _MISSING:
            assert set(decision.lea_disclosure.fields) == set(fields), decision.lea_disclosure
        if positive is not _MISSING:
            assert set(decision.discretion_factors.positive) == set(positive)
        if negative is not _MISSING:
            assert set(decision.discretion_factors.negative) == set(negative)
        for factor in has_positive:
            assert factor in decision.discretion_factors.positive, decision.discretion_factors
        for factor in has_negative:
            assert factor in decision.discretion_factors.negative, decision.discretion_factors
        for rule_id in rules:
            assert rule_id in ids, f"{rule_id} not in reasons of {where}"
            reason = next(r for r in decision.reasons if r.rule == rule_id)
            assert reason.citation.strip() and reason.text.strip()
        for rule_id in not_rules:
            assert rule_id not in ids, f"{rule_id} unexpectedly in reasons of {where}"
        if decisive is not _MISSING:
            reason = next((r for r in decision.reasons if r.rule == decisive), None)
            assert reason is not None, f"{decisive} not in reasons of {where}"
            assert reason.text.startswith("Decisive"), reason
        for rule_id in outranked:
            reason = next((r for r in decision.reasons if r.rule == rule_id), None)
            assert reason is not None, f"outranked {rule_id} not listed in {where}"
            assert "outranked" in reason.text, reason

    return _expect
