"""User variants of a policy pack (DESIGN 3.6 end: "a user variant overrides parameters or swaps
rules without touching the package") and the engine's hard errors (DESIGN 3: conflict and
no-value are errors naming the case and the rules) — law/packs.py apply_variant,
law/variant_expr.py, law/engine.py."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from securecomm.law.engine import CompiledPack, NoApplicableRule, PolicyConflict
from securecomm.law.packs import PACKS, VariantError, apply_variant
from securecomm.law.schema import Case, Decision

BASE: dict[str, Any] = {
    "case_id": "var-0001",
    "decided_at": "2011-10-03T10:00:00-06:00",
    "jurisdiction": {"ori": "CO0010000", "state": "CO", "timezone": "America/Denver"},
    "person": {
        "birth_date": "1980-01-01",
        "citizenship_status": "entered_without_inspection",
        "entered_us_on": "2000-01-01",
        "entry": "without_inspection",
    },
}


def make_case(**overrides: Any) -> Case:
    doc = copy.deepcopy(BASE)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(doc.get(key), dict):
            doc[key] = {**doc[key], **value}
        else:
            doc[key] = value
    return Case.model_validate(doc)


def decide(pack, case: Case) -> Decision:
    d = CompiledPack(pack).decide(case)
    for reason in d.reasons:
        assert reason.citation.strip() and reason.text.strip(), reason
    return d


def ch(ncic: str, literal: str = "", severity: str = "misdemeanor", **kw) -> dict:
    return {"ncic": ncic, "literal": literal, "severity": severity, **kw}


def cv(ncic: str, severity: str = "misdemeanor", **kw) -> dict:
    return {"ncic": ncic, "severity": severity, **kw}


def variant(base: str = "tfsc-2011", name: str = "what-if", **spec: Any):
    return apply_variant({"name": name, "base": base, **spec})


def rule_def(**kw: Any) -> dict:
    return {"kind": "action", "citation": "test citation", "text": "test rule", **kw}


SPEEDING_ONLY = {"arrest": {"charges": [ch("5499", "SPEEDING")]}}


# --------------------------------------------------------------------------- parameters


def test_recent_entry_years_override_changes_outcome() -> None:
    """Entered four years ago, arrested for speeding: not a recent entrant at 3 years (no
    detainer under tfsc-2011); a recent entrant (a higher category) at 5 years."""
    case = make_case(person={"entered_us_on": "2007-09-01"}, **SPEEDING_ONLY)
    assert decide(PACKS["tfsc-2011"], case).action == "no_detainer"
    v = variant(parameters={"priorities.recent_entry_years": 5})
    d = decide(v, case)
    assert d.action == "detainer"
    assert d.priority == "2" and "2(a)" in d.priority_bases
    assert d.policy == "what-if"
    assert v.parameters["priorities.recent_entry_years"].value == 5
    assert PACKS["tfsc-2011"].parameters["priorities.recent_entry_years"].value == 3  # untouched


def test_count_minor_traffic_override_changes_level_not_higher_category() -> None:
    """levels.count_minor_traffic = true in a tfsc-2011 variant: a prior speeding conviction
    becomes Level 3 (priority 1(b) reported), but DESIGN 3.6 defines the Task Force's "higher
    category" as computed with count_minor_traffic=false, so the minor-traffic rule still
    applies (see the test report: the parameter does not reach higher_category)."""
    case = make_case(convictions=[cv("5499", literal="SPEEDING")], **SPEEDING_ONLY)
    d = decide(PACKS["tfsc-2011"], case)
    assert (d.action, d.level, d.priority) == ("no_detainer", None, None)
    d = decide(variant(parameters={"levels.count_minor_traffic": True}), case)
    assert (d.level, d.priority, d.priority_bases) == (3, "1", ("1(b)", "level-3"))
    assert d.action == "no_detainer"


def test_count_minor_traffic_override_in_morton_changes_level() -> None:
    case = make_case(convictions=[cv("5499", literal="SPEEDING")])
    assert decide(PACKS["morton-2011"], case).level == 3
    d = decide(variant("morton-2011", parameters={"levels.count_minor_traffic": False}), case)
    assert (d.level, d.priority) == (None, None)


def test_pep_incident_count_override_changes_outcome() -> None:
    case = make_case(
        decided_at="2015-03-02T10:00:00-07:00",
        convictions=[cv("2399", incident_id="a"), cv("5311", incident_id="b")],
    )
    assert decide(PACKS["pep-2014"], case).action == "no_detainer"
    d = decide(variant("pep-2014", parameters={"pep.misdemeanor_incidents": 2}), case)
    assert d.action == "detainer" and "2(a)" in d.priority_bases


def test_strict_public_safety_categories_override() -> None:
    case = make_case(arrest={"charges": [ch("1313", "ASSAULT", domestic_violence=True)]})
    assert decide(PACKS["tfsc-2011-strict"], case).action == "detainer"
    v = variant(
        "tfsc-2011-strict",
        parameters={"strict.public_safety_risk_categories": ["serious_traffic"]},
    )
    assert decide(v, case).action == "no_detainer"


def test_parameter_override_with_citation_and_rationale() -> None:
    v = variant(
        parameters={
            "priorities.recent_entry_years": {
                "value": 2,
                "citation": "Local policy memo 12",
                "rationale": "two years",
            }
        }
    )
    p = v.parameters["priorities.recent_entry_years"]
    assert (p.value, p.citation, p.rationale) == (2, "Local policy memo 12", "two years")
    assert p.effective == PACKS["tfsc-2011"].parameters["priorities.recent_entry_years"].effective


def test_bare_override_keeps_citation_and_names_the_variant() -> None:
    v = variant(name="five-years", parameters={"priorities.recent_entry_years": 5})
    p = v.parameters["priorities.recent_entry_years"]
    assert p.citation == PACKS["tfsc-2011"].parameters["priorities.recent_entry_years"].citation
    assert "five-years" in p.rationale


def test_date_parameter_accepts_iso_date() -> None:
    import datetime as dt

    v = variant("pep-2014", parameters={"pep.continuous_presence_since": "2013-06-01"})
    assert v.parameters["pep.continuous_presence_since"].value == dt.date(2013, 6, 1)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("priorities.recent_entry_years", "5"),
        ("priorities.recent_entry_years", 5.5),
        ("priorities.recent_entry_years", True),
        ("priorities.recent_entry_years", None),
        ("priorities.recent_entry_years", [5]),
        ("levels.count_minor_traffic", "no"),
        ("levels.count_minor_traffic", 0),
        ("levels.count_minor_traffic", None),
        ("offenses.minor_traffic_ncic", "5499"),
        ("offenses.minor_traffic_ncic", ["5499", 5499]),
        ("offenses.minor_traffic_ncic", {"5499": True}),
        ("offenses.minor_misdemeanor_literal_pattern", "loiter("),
        ("offenses.minor_misdemeanor_literal_pattern", 5),
        ("pep.continuous_presence_since", "January 1, 2014"),
        ("pep.continuous_presence_since", True),
        ("strict.public_safety_risk_categories", "serious_traffic"),
    ],
)
def test_type_checked_override_rejected_naming_the_key(name, value) -> None:
    with pytest.raises(VariantError, match=re.escape(f"variant.parameters.{name}:")):
        variant(parameters={name: value})


def test_unknown_parameter_rejected_naming_it() -> None:
    with pytest.raises(VariantError, match=r"variant\.parameters\.priorities\.recent_entry_yrs"):
        variant(parameters={"priorities.recent_entry_yrs": 5})


def test_override_mapping_with_unknown_keys_rejected() -> None:
    with pytest.raises(VariantError, match=r"variant\.parameters\.priorities\.recent_entry_years"):
        variant(
            parameters={"priorities.recent_entry_years": {"value": 5, "effective": "2020-01-01"}}
        )
    with pytest.raises(VariantError, match=r"variant\.parameters\.priorities\.recent_entry_years"):
        variant(parameters={"priorities.recent_entry_years": {"citation": "x"}})


@pytest.mark.parametrize(
    "override",
    [
        {"value": 5, "citation": ""},
        {"value": 5, "citation": 3},
        {"value": 5, "rationale": ""},
        {"value": 5, "citation": "   "},
    ],
)
def test_override_cannot_strip_citation_or_rationale(override) -> None:
    with pytest.raises(VariantError, match=r"variant\.parameters\.priorities\.recent_entry_years"):
        variant(parameters={"priorities.recent_entry_years": override})


def test_unknown_public_safety_category_rejected() -> None:
    with pytest.raises(VariantError, match=r"strict\.public_safety_risk_categories"):
        variant(
            "tfsc-2011-strict",
            parameters={"strict.public_safety_risk_categories": ["serius_traffic"]},
        )


# --------------------------------------------------------------------------- variant structure


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ({"base": "tfsc-2011"}, r"variant\.name"),
        ({"name": "", "base": "tfsc-2011"}, r"variant\.name"),
        ({"name": "v"}, r"variant\.base"),
        ({"name": "v", "base": "tfsc-2099"}, r"unknown pack 'tfsc-2099'"),
        ({"name": "v", "base": "tfsc-2011", "bogus": 1}, r"unknown key"),
        ({"name": "v", "base": "tfsc-2011", "disable_rules": ["nope"]}, r"variant\.disable_rules"),
        ({"name": "v", "base": "tfsc-2011", "add_rules": ["nope"]}, r"variant\.add_rules\[0\]"),
        (
            {"name": "v", "base": "tfsc-2011", "add_rules": ["actions.morton.removable-detainer"]},
            r"already in the pack",
        ),
        (
            {
                "name": "v",
                "base": "morton-2011",
                "replace_rules": {"actions.tfsc.minor-traffic-only": {}},
            },
            r"variant\.replace_rules",
        ),
    ],
)
def test_malformed_variant_rejected(spec, match) -> None:
    with pytest.raises(VariantError, match=match):
        apply_variant(spec)


@pytest.mark.parametrize(
    "spec",
    [
        {"parameters": ["priorities.recent_entry_years"]},
        {"replace_rules": ["actions.tfsc.minor-traffic-only"]},
        {"parameters": "priorities.recent_entry_years=5"},
    ],
)
def test_wrong_shaped_section_is_a_variant_error(spec) -> None:
    with pytest.raises(VariantError):
        apply_variant({"name": "v", "base": "tfsc-2011", **spec})


def test_disable_rule() -> None:
    """Disabling the Task Force minor-traffic rule returns the young traffic violator to a
    detainer."""
    case = make_case(**SPEEDING_ONLY)
    v = variant(disable_rules=["actions.tfsc.minor-traffic-only"])
    assert "actions.tfsc.minor-traffic-only" not in {r.id for r in v.rules}
    d = decide(v, case)
    assert d.action == "detainer"
    assert "actions.tfsc.minor-traffic-only" not in {r.rule for r in d.reasons}


def test_replace_rule() -> None:
    case = make_case(**SPEEDING_ONLY)
    v = variant(
        replace_rules={
            "actions.tfsc.minor-traffic-only": rule_def(
                when="every_charge('minor_traffic') and not higher_category",
                outcome="conditional_detainer",
                rank=80,
            )
        }
    )
    d = decide(v, case)
    assert d.action == "conditional_detainer"
    reason = next(r for r in d.reasons if r.rule == "actions.tfsc.minor-traffic-only")
    assert reason.citation == "test citation"
    # position preserved: same number of rules
    assert len(v.rules) == len(PACKS["tfsc-2011"].rules)


def test_add_rule_from_library() -> None:
    """morton-2011 plus the Task Force minor-traffic rule."""
    v = variant("morton-2011", add_rules=["actions.tfsc.minor-traffic-only"])
    assert decide(v, make_case(**SPEEDING_ONLY)).action == "no_detainer"
    assert decide(PACKS["morton-2011"], make_case(**SPEEDING_ONLY)).action == "detainer"


def test_add_rule_definition() -> None:
    v = variant(
        "morton-2011",
        add_rules=[
            rule_def(
                id="local.elderly-no-detainer",
                when="age >= 65 and not higher_category",
                outcome="no_detainer",
                rank=60,
            ),
            {
                "id": "local.factor.parolee",
                "kind": "factor",
                "polarity": "positive",
                "when": "person_citizenship_status in ('parolee', 'refugee_asylee')",
                "citation": "local memo",
                "text": "parolee or refugee",
            },
        ],
    )
    old = make_case(person={"birth_date": "1940-01-01"})
    d = decide(v, old)
    assert d.action == "no_detainer"
    reason = next(r for r in d.reasons if r.rule == "local.elderly-no-detainer")
    assert reason.text.startswith("Decisive") and reason.citation == "test citation"
    assert decide(v, make_case()).action == "detainer"


@pytest.mark.parametrize(
    "condition",
    [
        "every_charge('minor_traffic')",
        "every_charge('minor_traffic', 'minor_misdemeanor')",
        "any_charge('minor_misdemeanor') and not any_conviction('felony')",
        "count_convictions('misdemeanor') >= 3",
        "count_charges('serious_traffic') == 0",
        "any_conviction('aggravated_felony')",
        "level == 1 or level == 2",
        "level in (1, 2)",
        "level not in [3]",
        "flag_gang_member and age >= 16",
        "jurisdiction_honors_detainers == False",
        "not (protected and not aggravating)",
        "True",
    ],
)
def test_allowed_conditions(condition) -> None:
    v = variant(
        add_rules=[
            {"id": "x.finding", "kind": "finding", "when": condition, "citation": "c", "text": "t"}
        ]
    )
    decide(v, make_case(**SPEEDING_ONLY))


# --------------------------------------------------------------------------- hostile conditions


@pytest.mark.parametrize(
    ("condition", "match"),
    [
        ("unknown_name", r"unknown name 'unknown_name'"),
        ("protected and nonsense", r"unknown name 'nonsense'"),
        ("charges", r"unknown name 'charges'"),  # a list column is not a scalar
        ("action == 'detainer'", r"unknown name 'action'"),
        ("__import__('os')", r"unknown function '__import__'"),
        ("__import__('os').system('id')", r"unsupported syntax"),
        ("eval('1')", r"unknown function 'eval'"),
        ("exec('import os')", r"unknown function 'exec'"),
        ("open('/etc/passwd')", r"unknown function 'open'"),
        ("getattr(protected, '__class__')", r"unsupported syntax|unknown function"),
        ("os.system('id')", r"unsupported syntax"),
        ("protected.__class__", r"unsupported syntax"),
        ("().__class__.__bases__[0].__subclasses__()", r"unsupported syntax"),
        ("level.real", r"unsupported syntax"),
        ("every_charge('no_such_category')", r"unknown offense category"),
        ("every_charge(level)", r"category names as strings|unsupported syntax"),
        ("every_charge('minor_traffic', 'x')", r"unknown offense category 'x'"),
        ("any_charge(__import__('os'))", r"category names as strings|unsupported syntax"),
        ("every_charge(category='minor_traffic')", r"unsupported syntax"),
        ("level == __import__('os')", r"literal"),
        ("level == (lambda: 1)()", r"literal"),
        ("lambda: True", r"unsupported syntax"),
        ("[x for x in ()]", r"unsupported syntax"),
        ("protected if level else aggravating", r"unsupported syntax"),
        ("protected + 1", r"unsupported syntax"),
        ("1 < level < 3", r"unsupported syntax"),
        ("f'{protected}'", r"unsupported syntax"),
        ("(yield)", r"unsupported|cannot parse"),
        ("protected; import os", r"cannot parse"),
        ("import os", r"cannot parse"),
        ("", r"non-empty condition"),
        ("   ", r"non-empty condition"),
        ("protected and " * 200 + "protected", r"longer than 2000"),
        ("(" * 300 + "protected" + ")" * 300, r"cannot parse|longer than"),
    ],
)
def test_hostile_or_unknown_condition_rejected(condition, match) -> None:
    with pytest.raises(ValueError, match=match) as exc:
        variant(
            add_rules=[
                {"id": "x.bad", "kind": "finding", "when": condition, "citation": "c", "text": "t"}
            ]
        )
    assert "variant.add_rules[0]" in str(exc.value)


def test_condition_in_replace_rule_names_the_rule() -> None:
    with pytest.raises(
        ValueError, match=r"variant\.replace_rules\.actions\.tfsc\.minor-traffic-only\.when"
    ):
        variant(
            replace_rules={
                "actions.tfsc.minor-traffic-only": rule_def(
                    when="__import__('os')", outcome="detainer", rank=80
                )
            }
        )


def test_deeply_nested_condition_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"variant\.add_rules\[0\]"):
        variant(
            add_rules=[
                {
                    "id": "x.bad",
                    "kind": "finding",
                    "when": "-" * 1990 + "1",
                    "citation": "c",
                    "text": "t",
                }
            ]
        )


@pytest.mark.parametrize(
    ("definition", "match"),
    [
        ({"id": "x", "kind": "finding", "when": "protected", "text": "t"}, r"citation: required"),
        (
            {"id": "x", "kind": "finding", "when": "protected", "citation": " ", "text": "t"},
            r"citation: required",
        ),
        ({"id": "x", "kind": "finding", "when": "protected", "citation": "c"}, r"text: required"),
        (
            {"id": "x", "kind": "verdict", "when": "protected", "citation": "c", "text": "t"},
            r"kind",
        ),
        (rule_def(id="x", when="protected", outcome="deport", rank=5), r"outcome"),
        (rule_def(id="x", when="protected", outcome="detainer", rank=5000), r"rank"),
        (rule_def(id="x", when="protected", outcome="detainer", rank=True), r"rank"),
        (rule_def(id="x", when="protected", outcome="detainer"), r"rank"),
        (
            {"id": "x", "kind": "priority", "when": "protected", "citation": "c", "text": "t"},
            r"label",
        ),
        (
            {"id": "x", "kind": "factor", "when": "protected", "citation": "c", "text": "t"},
            r"polarity",
        ),
        (
            {
                "id": "x",
                "kind": "finding",
                "when": "protected",
                "citation": "c",
                "text": "t",
                "eval": "1",
            },
            r"unknown key",
        ),
        ({"kind": "finding", "when": "protected", "citation": "c", "text": "t"}, r"\.id: required"),
        ("actions.no-such-rule", r"no rule"),
    ],
)
def test_bad_rule_definition_rejected(definition, match) -> None:
    with pytest.raises(ValueError, match=match):
        variant(add_rules=[definition])


# --------------------------------------------------------------------------- hard errors


def test_conflict_at_same_rank_raises_naming_case_and_rules() -> None:
    v = variant(
        "morton-2011",
        add_rules=[
            rule_def(id="local.no-detainer", when="removable", outcome="no_detainer", rank=0)
        ],
    )
    case = make_case(case_id="conflict-7")
    with pytest.raises(PolicyConflict) as exc:
        CompiledPack(v).decide(case)
    message = str(exc.value)
    assert "conflict-7" in message
    assert "actions.morton.removable-detainer" in message and "local.no-detainer" in message
    assert exc.value.case_id == "conflict-7" and exc.value.rank == 0
    assert {r.id for r in exc.value.rules} == {
        "actions.morton.removable-detainer",
        "local.no-detainer",
    }


def test_conflict_only_when_both_apply() -> None:
    v = variant(
        "morton-2011",
        add_rules=[rule_def(id="local.elderly", when="age >= 65", outcome="no_detainer", rank=0)],
    )
    assert decide(v, make_case()).action == "detainer"  # rule not applicable: no conflict
    with pytest.raises(PolicyConflict):
        CompiledPack(v).decide(make_case(person={"birth_date": "1940-01-01"}))


def test_same_rank_same_outcome_is_not_a_conflict() -> None:
    v = variant(
        "morton-2011",
        add_rules=[rule_def(id="local.detainer", when="removable", outcome="detainer", rank=0)],
    )
    d = decide(v, make_case())
    assert d.action == "detainer"
    ids = [r.rule for r in d.reasons]
    assert "actions.morton.removable-detainer" in ids and "local.detainer" in ids


def test_disabling_the_base_rule_gives_no_applicable_rule_naming_the_case() -> None:
    v = variant("morton-2011", disable_rules=["actions.morton.removable-detainer"])
    with pytest.raises(NoApplicableRule) as exc:
        CompiledPack(v).decide(make_case(case_id="empty-42"))
    assert "empty-42" in str(exc.value) and exc.value.case_id == "empty-42"
    # cases some other rule decides are unaffected
    d = decide(v, make_case(person={"citizenship_status": "us_citizen_by_birth"}))
    assert d.action == "no_action"


# --------------------------------------------------------------------------- policy_version


def test_policy_version_carries_the_variant_digest() -> None:
    base = PACKS["tfsc-2011"]
    a = variant(parameters={"priorities.recent_entry_years": 5})
    a_again = apply_variant(
        {"parameters": {"priorities.recent_entry_years": 5}, "base": "tfsc-2011", "name": "what-if"}
    )
    b = variant(parameters={"priorities.recent_entry_years": 4})
    c = variant(name="other-name", parameters={"priorities.recent_entry_years": 5})
    assert base.policy_version == "2.0.0"  # specification v2
    assert a.policy_version.startswith(base.version + "+")
    digest = a.policy_version.split("+", 1)[1]
    assert len(digest) == 12 and all(ch in "0123456789abcdef" for ch in digest)
    assert a.policy_version == a_again.policy_version  # key order does not matter
    assert len({a.policy_version, b.policy_version, c.policy_version, base.policy_version}) == 4
    assert a.base == "tfsc-2011" and a.variant_digest == digest
    d = decide(a, make_case())
    assert (d.policy, d.policy_version) == ("what-if", a.policy_version)


def test_empty_variant_decides_like_its_base_but_is_versioned() -> None:
    v = variant("pep-2014")
    case = make_case(decided_at="2015-03-02T10:00:00-07:00", convictions=[cv("2399", "felony")])
    d_base, d_var = decide(PACKS["pep-2014"], case), decide(v, case)
    assert d_var.model_dump(exclude={"policy", "policy_version"}) == d_base.model_dump(
        exclude={"policy", "policy_version"}
    )
    assert d_var.policy_version != d_base.policy_version


def test_variant_does_not_touch_the_base_pack() -> None:
    before = {name: (p.rules, dict(p.parameters)) for name, p in PACKS.items()}
    variant(
        disable_rules=["actions.tfsc.minor-traffic-only"],
        parameters={"priorities.recent_entry_years": 9},
    )
    after = {name: (p.rules, dict(p.parameters)) for name, p in PACKS.items()}
    assert before == after
