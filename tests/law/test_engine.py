"""Engine structure: precedence, conflicts, uncovered cases, pack definition errors."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from securecomm.law.engine import (
    CompiledPack,
    NoApplicableRule,
    PackDefinitionError,
    PolicyConflict,
    bind_pack,
)
from securecomm.law.expr import TRUE, Var
from securecomm.law.model import Rule
from securecomm.law.packs import PACKS
from securecomm.law.schema import Case

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "case-young-traffic-violator.json"


@pytest.fixture
def case() -> Case:
    return Case.model_validate_json(EXAMPLE.read_text())


def _with_rules(pack, rules):
    return replace(pack, rules=tuple(rules))


def test_same_rank_different_outcomes_is_a_conflict_naming_case_and_rules(case):
    pack = PACKS["morton-2011"]
    rival = Rule("test.rival", "action", TRUE, "test", "rival", outcome="no_detainer", rank=0)
    with pytest.raises(PolicyConflict) as exc:
        CompiledPack(_with_rules(pack, [*pack.rules, rival])).decide(case)
    message = str(exc.value)
    assert (
        "ex-001" in message
        and "test.rival" in message
        and "actions.morton.removable-detainer" in message
    )


def test_same_rank_same_outcome_is_not_a_conflict(case):
    pack = PACKS["morton-2011"]
    twin = Rule("test.twin", "action", TRUE, "test", "twin", outcome="detainer", rank=0)
    decision = CompiledPack(_with_rules(pack, [*pack.rules, twin])).decide(case)
    assert decision.action.value == "detainer"


def test_no_applicable_rule_is_an_error(case):
    pack = PACKS["morton-2011"]
    rules = [r for r in pack.rules if r.id != "actions.morton.removable-detainer"]
    with pytest.raises(NoApplicableRule, match="ex-001"):
        CompiledPack(_with_rules(pack, rules)).decide(case)


def test_outranked_rules_are_listed(case):
    decision = CompiledPack(PACKS["tfsc-2011"]).decide(case)
    texts = {r.rule: r.text for r in decision.reasons}
    assert texts["actions.tfsc.minor-traffic-only"].startswith("Decisive (rank 80)")
    assert (
        "outranked by actions.tfsc.minor-traffic-only" in texts["actions.morton.removable-detainer"]
    )


@pytest.mark.parametrize(
    "bad_rule, message",
    [
        (Rule("x", "finding", Var("no_such_variable"), "c", "t"), "no_such_variable"),
        (Rule("actions.not-removable", "finding", TRUE, "c", "t"), "duplicate"),
        (
            Rule("x", "action", Var("action").eq("detainer"), "c", "t", outcome="detainer", rank=5),
            "cannot depend on the action",
        ),
    ],
)
def test_pack_definition_errors(bad_rule, message):
    pack = PACKS["morton-2011"]
    with pytest.raises(PackDefinitionError, match=message):
        bind_pack(_with_rules(pack, [*pack.rules, bad_rule]))


def test_variable_cycle_is_detected():
    pack = PACKS["morton-2011"]
    variables = {**pack.variables, "a": Var("b").eq(1), "b": Var("a")}
    rule = Rule("x", "finding", Var("a"), "c", "t")
    with pytest.raises(PackDefinitionError, match="cycle"):
        bind_pack(replace(pack, variables=variables, rules=(*pack.rules, rule)))


def test_every_rule_and_parameter_is_cited():
    for pack in PACKS.values():
        for rule in pack.rules:
            assert rule.citation.strip() and rule.text.strip(), rule.id
        for p in pack.parameters.values():
            assert p.citation.strip() and p.rationale.strip() and p.effective, p.name


def test_decision_is_deterministic_and_json_round_trips(case):
    compiled = CompiledPack(PACKS["pep-2014"])
    a, b = compiled.decide(case), compiled.decide(case)
    assert a == b
    assert json.loads(a.model_dump_json())["case_id"] == "ex-001"
