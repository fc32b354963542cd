"""Action rules per policy pack, with precedence (DESIGN 3.6) — rules/actions.py.

Ranks, highest first, in every pack: 100 not removable / status unknown -> no_action; 90
protected and not aggravating -> no_detainer; the pack's own rules in the order listed; 0 the
pack's base rule. Lower applicable rules are still listed in the reasons as outranked.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from securecomm.law.packs import PACKS as ALL_PACKS
from securecomm.law.rules import actions
from securecomm.law.schema import Case

PACKS = ("morton-2011", "tfsc-2011", "tfsc-2011-strict", "pep-2014")
TFSC = ("tfsc-2011", "tfsc-2011-strict")
EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "case-young-traffic-violator.json"


def cv(ncic: str, severity: str = "misdemeanor", **kw) -> dict:
    return {"ncic": ncic, "severity": severity, **kw}


def ch(ncic: str, literal: str = "", severity: str = "misdemeanor", **kw) -> dict:
    return {"ncic": ncic, "literal": literal, "severity": severity, **kw}


def charges(*items: dict) -> dict:
    return {"charges": list(items)}


SPEEDING = ch("5499", "SPEEDING")
NO_LICENSE = ch("5499", "DRIVING WITHOUT A LICENSE")
LOITERING = ch("7399", "LOITERING")


def action_rules(pack: str) -> dict[str, tuple[str, int]]:
    return {r.id: (r.outcome, r.rank) for r in ALL_PACKS[pack].rules if r.kind == "action"}


# --------------------------------------------------------------------------- pack structure

EXPECTED_ACTION_RULES = {
    "morton-2011": {
        "actions.not-removable": ("no_action", 100),
        "actions.status-unknown": ("no_action", 100),
        "actions.protected-not-aggravating": ("no_detainer", 90),
        "actions.morton.national-security-detainer": ("detainer", 85),
        "actions.morton.priority-detainer": ("detainer", 60),
        "actions.morton.removable-detainer": ("detainer", 0),
    },
    "tfsc-2011": {
        "actions.not-removable": ("no_action", 100),
        "actions.status-unknown": ("no_action", 100),
        "actions.protected-not-aggravating": ("no_detainer", 90),
        "actions.morton.national-security-detainer": ("detainer", 85),
        "actions.tfsc.minor-traffic-only": ("no_detainer", 80),
        "actions.tfsc.minor-misdemeanor-conditional": ("conditional_detainer", 70),
        "actions.tfsc.minor-misdemeanor-disposed": ("no_detainer", 70),
        "actions.morton.priority-detainer": ("detainer", 60),
        "actions.morton.removable-detainer": ("detainer", 0),
    },
    "tfsc-2011-strict": {
        "actions.not-removable": ("no_action", 100),
        "actions.status-unknown": ("no_action", 100),
        "actions.protected-not-aggravating": ("no_detainer", 90),
        "actions.morton.national-security-detainer": ("detainer", 85),
        "actions.tfsc.minor-traffic-only": ("no_detainer", 80),
        "actions.tfsc-strict.misdemeanor-no-public-safety-risk": ("no_detainer", 70),
        "actions.morton.priority-detainer": ("detainer", 60),
        "actions.morton.removable-detainer": ("detainer", 0),
    },
    "pep-2014": {
        "actions.not-removable": ("no_action", 100),
        "actions.status-unknown": ("no_action", 100),
        "actions.protected-not-aggravating": ("no_detainer", 90),
        "actions.pep.transfer-priority-detainer": ("detainer", 80),
        "actions.pep.transfer-priority-notification": ("notification_request", 80),
        "actions.pep.not-a-transfer-priority": ("no_detainer", 0),
    },
}


@pytest.mark.parametrize("pack", PACKS)
def test_pack_action_rules_and_ranks(pack) -> None:
    assert action_rules(pack) == EXPECTED_ACTION_RULES[pack]


def test_every_action_module_rule_is_in_some_pack() -> None:
    module_rules = {
        *(r.id for r in actions.COMMON),
        actions.MORTON_BASE.id,
        actions.MORTON_PRIORITY.id,
        actions.MORTON_NATIONAL_SECURITY.id,
        actions.TFSC_MINOR_TRAFFIC.id,
        actions.TFSC_CONDITIONAL.id,
        actions.TFSC_NOTHING_TO_CONDITION_ON.id,
        actions.TFSC_STRICT_MISDEMEANOR.id,
        actions.TFSC_SUPERVISOR.id,
        actions.PEP_DETAINER.id,
        actions.PEP_NOTIFICATION.id,
        actions.PEP_BASE.id,
    }
    in_packs = {r.id for p in ALL_PACKS.values() for r in p.rules}
    assert module_rules <= in_packs
    assert actions.TFSC_SUPERVISOR.id in {r.id for r in ALL_PACKS["tfsc-2011"].rules}
    assert actions.TFSC_SUPERVISOR.id in {r.id for r in ALL_PACKS["tfsc-2011-strict"].rules}
    for name in ("morton-2011", "pep-2014"):
        assert actions.TFSC_SUPERVISOR.id not in {r.id for r in ALL_PACKS[name].rules}


# rule id -> (pack, case overrides): a case where the rule decides
DECISIVE_SCENARIOS: dict[str, tuple[str, dict]] = {
    "actions.not-removable": (
        "morton-2011",
        {"person": {"citizenship_status": "us_citizen_by_birth"}},
    ),
    "actions.status-unknown": ("tfsc-2011", {"person": {"citizenship_status": "unknown"}}),
    "actions.protected-not-aggravating": ("tfsc-2011", {"flags": {"crime_witness": True}}),
    "actions.morton.removable-detainer": ("morton-2011", {}),
    "actions.tfsc.minor-traffic-only": ("tfsc-2011", {"arrest": charges(SPEEDING)}),
    "actions.tfsc.minor-misdemeanor-conditional": ("tfsc-2011", {"arrest": charges(LOITERING)}),
    "actions.tfsc.minor-misdemeanor-disposed": (
        "tfsc-2011",
        {"arrest": charges({**LOITERING, "disposition": "dismissed"})},
    ),
    "actions.morton.national-security-detainer": (
        "morton-2011",
        {"flags": {"national_security": True}},
    ),
    "actions.morton.priority-detainer": ("tfsc-2011", {"convictions": [cv("2399", "felony")]}),
    "actions.tfsc-strict.misdemeanor-no-public-safety-risk": (
        "tfsc-2011-strict",
        {"arrest": charges(ch("2399", "PETTY THEFT"))},
    ),
    "actions.pep.transfer-priority-detainer": (
        "pep-2014",
        {"decided_at": "2015-03-02T10:00:00-07:00", "convictions": [cv("2399", "felony")]},
    ),
    "actions.pep.transfer-priority-notification": (
        "pep-2014",
        {
            "decided_at": "2015-03-02T10:00:00-07:00",
            "convictions": [cv("2399", "felony")],
            "jurisdiction": {"honors_detainers": False},
        },
    ),
    "actions.pep.not-a-transfer-priority": (
        "pep-2014",
        {"decided_at": "2015-03-02T10:00:00-07:00"},
    ),
}


def test_every_action_rule_has_a_decisive_scenario() -> None:
    every = {rid for table in EXPECTED_ACTION_RULES.values() for rid in table}
    assert set(DECISIVE_SCENARIOS) == every


@pytest.mark.parametrize("rule_id", sorted(DECISIVE_SCENARIOS))
def test_action_rule_decides(decide, expect, rule_id) -> None:
    pack, overrides = DECISIVE_SCENARIOS[rule_id]
    d = decide(pack, **overrides)
    outcome, _ = EXPECTED_ACTION_RULES[pack][rule_id]
    expect(d, action=outcome, decisive=rule_id, rules=(rule_id,))


# --------------------------------------------------------------------------- precedence


def test_precedence_tfsc_100_over_90_over_70_over_0(decide, expect) -> None:
    """A naturalized citizen (old record) who is a witness, arrested for loitering."""
    d = decide(
        "tfsc-2011",
        person={"citizenship_status": "naturalized_citizen"},
        flags={"crime_witness": True},
        arrest=charges(LOITERING),
    )
    expect(
        d,
        action="no_action",
        decisive="actions.not-removable",
        outranked=(
            "actions.protected-not-aggravating",
            "actions.tfsc.minor-misdemeanor-conditional",
            "actions.morton.removable-detainer",
        ),
    )


def test_precedence_tfsc_90_over_80_over_0(decide, expect) -> None:
    d = decide("tfsc-2011", flags={"crime_victim": True}, arrest=charges(SPEEDING))
    expect(
        d,
        action="no_detainer",
        decisive="actions.protected-not-aggravating",
        outranked=("actions.tfsc.minor-traffic-only", "actions.morton.removable-detainer"),
    )


def test_precedence_strict_80_over_70_over_0(decide, expect) -> None:
    d = decide("tfsc-2011-strict", arrest=charges(SPEEDING))
    expect(
        d,
        action="no_detainer",
        decisive="actions.tfsc.minor-traffic-only",
        outranked=(
            "actions.tfsc-strict.misdemeanor-no-public-safety-risk",
            "actions.morton.removable-detainer",
        ),
    )


def test_precedence_tfsc_70_over_0(decide, expect) -> None:
    d = decide("tfsc-2011", arrest=charges(LOITERING))
    expect(
        d,
        action="conditional_detainer",
        decisive="actions.tfsc.minor-misdemeanor-conditional",
        outranked=("actions.morton.removable-detainer",),
    )


def test_precedence_pep_90_over_80_over_0(decide, expect) -> None:
    d = decide(
        "pep-2014",
        decided_at="2015-03-02T10:00:00-07:00",
        person={"pending_relief": ["t_visa"]},
        convictions=[cv("2202", "felony")],
    )
    expect(
        d,
        action="no_detainer",
        decisive="actions.protected-not-aggravating",
        outranked=("actions.pep.transfer-priority-detainer", "actions.pep.not-a-transfer-priority"),
    )


def test_precedence_morton_100_over_0(decide, expect) -> None:
    d = decide("morton-2011", person={"citizenship_status": "unknown"})
    expect(
        d,
        action="no_action",
        decisive="actions.status-unknown",
        outranked=("actions.morton.removable-detainer",),
    )


@pytest.mark.parametrize("pack", PACKS)
def test_rules_that_do_not_apply_are_not_listed(decide, expect, pack) -> None:
    d = decide(pack, decided_at="2015-03-02T10:00:00-07:00")
    expect(
        d,
        not_rules=(
            "actions.not-removable",
            "actions.status-unknown",
            "actions.protected-not-aggravating",
            "actions.tfsc.minor-traffic-only",
            "actions.tfsc.minor-misdemeanor-conditional",
        ),
    )


# --------------------------------------------------------------------------- report I.5


def test_young_traffic_violator_example_file(decide, expect) -> None:
    """Report I.5: 'a young traffic law violator who has lived in this country since infancy'.
    morton-2011: detainer, the discretion factors only listed; tfsc-2011: no detainer."""
    case = Case.model_validate(json.loads(EXAMPLE.read_text()))
    d = decide("morton-2011", case)
    expect(
        d,
        removable=True,
        action="detainer",
        priority=None,
        level=None,
        supervisor=False,
        has_positive=("present_since_childhood", "minor_traffic_arrest"),
        rules=(
            "removability.unlawful-presence",
            "actions.morton.removable-detainer",
            "discretion.positive.present_since_childhood",
            "discretion.positive.minor_traffic_arrest",
        ),
    )
    for pack in TFSC:
        d = decide(pack, case)
        expect(
            d,
            action="no_detainer",
            decisive="actions.tfsc.minor-traffic-only",
            has_positive=("present_since_childhood", "minor_traffic_arrest"),
        )


@pytest.mark.parametrize("charge", [SPEEDING, NO_LICENSE, ch("5499", "", "infraction")])
def test_minor_traffic_only_in_morton_is_detainer_plus_factor(decide, expect, charge) -> None:
    d = decide("morton-2011", arrest=charges(charge))
    expect(d, action="detainer", has_positive=("minor_traffic_arrest",))


# --------------------------------------------------------------------------- III rec. 1 traffic

SERIOUS_TRAFFIC = {
    "dui_drugs_5403": ch("5403", "DRIVING UNDER INFLUENCE DRUGS"),
    "dui_alcohol_5404": ch("5404", "DUI"),
    "hit_and_run_5401": ch("5401", "HIT AND RUN"),
    "negligent_vehicular_manslaughter_0909": ch("0909", "VEHICULAR MANSLAUGHTER"),
    "reckless_driving_with_injury": ch("5499", "RECKLESS DRIVING", injury=True),
    # v2: the literal refines a catch-all code (4899 OBSTRUCT POLICE), never a specific one
    "fleeing_eluding_literal": ch("4899", "FLEEING OR ELUDING A POLICE OFFICER"),
    "eluding_under_traffic_code": ch("5499", "ELUDING POLICE"),
}


@pytest.mark.parametrize("pack", TFSC)
@pytest.mark.parametrize("name", sorted(SERIOUS_TRAFFIC))
def test_serious_traffic_is_not_minor_traffic_detainer(decide, expect, pack, name) -> None:
    """III rec. 1: DUI, hit-and-run, reckless driving with injury ... are not minor traffic."""
    d = decide(pack, arrest=charges(SERIOUS_TRAFFIC[name]))
    expect(
        d,
        action="detainer",
        decisive="actions.morton.removable-detainer",
        not_rules=("actions.tfsc.minor-traffic-only", "discretion.positive.minor_traffic_arrest"),
    )


@pytest.mark.parametrize("name", sorted(SERIOUS_TRAFFIC))
def test_serious_traffic_with_a_minor_charge_still_detainer(decide, expect, name) -> None:
    d = decide("tfsc-2011", arrest=charges(SPEEDING, SERIOUS_TRAFFIC[name]))
    expect(d, action="detainer")


@pytest.mark.parametrize(
    "literal",
    ["HIT-AND-RUN", "LEAVING THE SCENE OF AN ACCIDENT", "DRIVING WHILE INTOXICATED"],
)
def test_serious_traffic_literal_spellings_under_5499(decide, expect, literal) -> None:
    d = decide("tfsc-2011", arrest=charges(ch("5499", literal)))
    expect(d, action="detainer")


def test_reckless_driving_without_injury_is_minor_traffic(decide, expect) -> None:
    d = decide("tfsc-2011", arrest=charges(ch("5499", "RECKLESS DRIVING")))
    expect(d, action="no_detainer", decisive="actions.tfsc.minor-traffic-only")


def test_felony_traffic_is_not_minor(decide, expect) -> None:
    d = decide("tfsc-2011", arrest=charges(ch("5499", "DRIVING WITHOUT A LICENSE", "felony")))
    expect(d, action="detainer")


@pytest.mark.parametrize("pack", TFSC)
def test_minor_traffic_with_higher_category_detainer(decide, expect, pack) -> None:
    for overrides in (
        {"flags": {"outstanding_criminal_warrant": True}},
        {"person": {"entered_us_on": "2010-01-01"}},  # recent entrant, Morton 2(a)
        {"person": {"removed_on": ["2005-01-01"]}},  # re-entry after removal, 3(b)
        {"convictions": [cv("2399")]},  # Level 3
    ):
        d = decide(pack, arrest=charges(SPEEDING), **overrides)
        expect(d, action="detainer", decisive="actions.morton.priority-detainer")
        assert d.priority is not None


@pytest.mark.parametrize("pack", TFSC)
def test_prior_minor_traffic_conviction_is_not_a_higher_category(decide, expect, pack) -> None:
    d = decide(pack, arrest=charges(SPEEDING), convictions=[cv("5499", literal="SPEEDING")])
    expect(d, action="no_detainer", priority=None)


@pytest.mark.parametrize("pack", TFSC)
def test_no_charges_is_not_minor_traffic_only(decide, expect, pack) -> None:
    """'Every current charge minor traffic' does not hold vacuously (expr.every)."""
    d = decide(pack)
    expect(d, action="detainer", not_rules=("actions.tfsc.minor-traffic-only",))


# --------------------------------------------------------------------------- III rec. 1 misdemeanors


def test_loitering_pending_conditional_in_consensus_no_detainer_in_strict(decide, expect) -> None:
    """Appendix A / fn. 21: loitering, a misdemeanor, pending."""
    d = decide("tfsc-2011", arrest=charges(LOITERING))
    expect(d, action="conditional_detainer", priority=None, level=None)
    assert "detainer" in d.lea_disclosure.fields  # conditional detainers are delivered
    d = decide("tfsc-2011-strict", arrest=charges(LOITERING))
    expect(
        d,
        action="no_detainer",
        decisive="actions.tfsc-strict.misdemeanor-no-public-safety-risk",
        not_rules=("actions.tfsc.minor-misdemeanor-conditional",),
    )
    expect(decide("morton-2011", arrest=charges(LOITERING)), action="detainer")


@pytest.mark.parametrize("pack", TFSC)
def test_loitering_already_convicted_is_level_3_higher_category(decide, expect, pack) -> None:
    d = decide(pack, arrest=charges({**LOITERING, "disposition": "convicted"}))
    expect(
        d,
        action="detainer",
        level=3,
        priority="1",
        bases=("1(b)", "level-3"),
        decisive="actions.morton.priority-detainer",
        not_rules=(
            "actions.tfsc.minor-misdemeanor-conditional",
            "actions.tfsc-strict.misdemeanor-no-public-safety-risk",
        ),
    )


@pytest.mark.parametrize(
    "charge",
    [
        ch("4104", "LIQUOR - POSSESS"),
        ch("4813", "FAILURE TO MOVE ON"),
        ch("5311", "DISORDERLY CONDUCT"),
        ch("5707", "TRESPASSING"),
        ch("7399", "VAGRANCY"),
        ch("7399", "CURFEW VIOLATION"),
        ch("7399", "LITTERING"),
        ch("7399", "PANHANDLING"),
        ch("7399", "PUBLIC INTOXICATION"),
        ch("7399", "LOITERING", "infraction"),
    ],
)
def test_minor_misdemeanors_pending_conditional(decide, expect, charge) -> None:
    d = decide("tfsc-2011", arrest=charges(charge))
    expect(d, action="conditional_detainer")


def test_minor_traffic_plus_minor_misdemeanor_conditional(decide, expect) -> None:
    d = decide("tfsc-2011", arrest=charges(SPEEDING, LOITERING))
    expect(d, action="conditional_detainer", not_rules=("actions.tfsc.minor-traffic-only",))


@pytest.mark.parametrize(
    "other",
    [
        ch("2399", "PETTY THEFT"),  # a misdemeanor, but not a minor (public-order) one
        ch("7399", "LOITERING", "felony"),
        ch("5404", "DUI"),
    ],
)
def test_conditional_needs_every_charge_minor(decide, expect, other) -> None:
    d = decide("tfsc-2011", arrest=charges(LOITERING, other))
    expect(d, action="detainer")


@pytest.mark.parametrize("pack", TFSC)
def test_minor_misdemeanor_with_higher_category_detainer(decide, expect, pack) -> None:
    d = decide(pack, arrest=charges(LOITERING), flags={"serious_public_safety_risk": True})
    expect(d, action="detainer", priority="1")


# --------------------------------------------------------------------------- strict


@pytest.mark.parametrize(
    ("charge", "action"),
    [
        (ch("2399", "PETTY THEFT"), "no_detainer"),
        (ch("1313", "SIMPLE ASSAULT"), "no_detainer"),
        (ch("2399", "PETTY THEFT", "infraction"), "no_detainer"),
        (ch("1313", "ASSAULT", domestic_violence=True), "detainer"),  # significant misdemeanor
        (ch("2202", "BURGLARY"), "detainer"),
        (ch("5212", "POSSESSION OF WEAPON"), "detainer"),
        (ch("3530", "COCAINE - SELL"), "detainer"),
        (ch("3601", "SEX OFFENSE - AGAINST CHILD-FONDLING"), "detainer"),
        (ch("5404", "DUI"), "detainer"),  # serious traffic and significant misdemeanor
        (ch("5401", "HIT AND RUN"), "detainer"),
        (ch("5499", "RECKLESS DRIVING", injury=True), "detainer"),
        (ch("2399", "THEFT", "felony"), "detainer"),
    ],
)
def test_strict_misdemeanor_posing_no_public_safety_risk(decide, expect, charge, action) -> None:
    d = decide("tfsc-2011-strict", arrest=charges(charge))
    expect(d, action=action)


@pytest.mark.parametrize("pack", TFSC)
def test_significant_misdemeanor_dv_pending_detainer(decide, expect, pack) -> None:
    """DV pending: a significant misdemeanor -> detainer in the strict view (and consensus)."""
    d = decide(pack, arrest=charges(ch("1313", "ASSAULT - DOMESTIC", domestic_violence=True)))
    expect(d, action="detainer", decisive="actions.morton.removable-detainer")


def test_strict_with_higher_category_detainer(decide, expect) -> None:
    d = decide(
        "tfsc-2011-strict",
        arrest=charges(ch("2399", "PETTY THEFT")),
        person={"immigration_fraud": True},
    )
    expect(d, action="detainer", priority="3")


# --------------------------------------------------------------------------- pep


@pytest.mark.parametrize("honors", [True, False])
def test_pep_not_removable_beats_transfer_priority(decide, expect, honors) -> None:
    d = decide(
        "pep-2014",
        decided_at="2015-03-02T10:00:00-07:00",
        person={"citizenship_status": "naturalized_citizen"},
        convictions=[cv("0901", "felony")],
        jurisdiction={"honors_detainers": honors},
    )
    rule = (
        "actions.pep.transfer-priority-detainer"
        if honors
        else "actions.pep.transfer-priority-notification"
    )
    expect(d, action="no_action", decisive="actions.not-removable", outranked=(rule,))


def test_pep_minor_traffic_and_loitering_no_detainer(decide, expect) -> None:
    for arrest in (charges(SPEEDING), charges(LOITERING)):
        d = decide("pep-2014", decided_at="2015-03-02T10:00:00-07:00", arrest=arrest)
        expect(d, action="no_detainer", priority=None)


# --------------------------------------------------------------------------- v2: rule fields


def test_safeguard_and_decline_reason_are_fields_of_the_rules() -> None:
    """v2 item 4: what an override removes and why no detainer travel with the rule."""
    for rule in (
        *actions.COMMON,
        actions.TFSC_MINOR_TRAFFIC,
        actions.TFSC_CONDITIONAL,
        actions.TFSC_NOTHING_TO_CONDITION_ON,
        actions.TFSC_STRICT_MISDEMEANOR,
        actions.PEP_BASE,
    ):
        assert rule.safeguard and "DESIGN" not in rule.safeguard, rule.id
    for rule in (actions.MORTON_BASE, actions.MORTON_PRIORITY, actions.PEP_DETAINER):
        assert rule.safeguard is None, rule.id
    declines = {
        r.id: r.decline_reason
        for p in ALL_PACKS.values()
        for r in p.rules
        if r.kind == "action" and r.outcome == "no_detainer"
    }
    assert declines == {
        "actions.protected-not-aggravating": "protected_person",
        "actions.tfsc.minor-traffic-only": "minor_traffic",
        "actions.tfsc.minor-misdemeanor-disposed": "minor_misdemeanor",
        "actions.tfsc-strict.misdemeanor-no-public-safety-risk": "minor_misdemeanor",
        "actions.pep.not-a-transfer-priority": "not_a_priority",
    }


@pytest.mark.parametrize("rule_id", sorted(DECISIVE_SCENARIOS))
def test_decision_carries_the_decisive_rule_structured(decide, rule_id) -> None:
    pack, overrides = DECISIVE_SCENARIOS[rule_id]
    d = decide(pack, **overrides)
    rule = ALL_PACKS[pack].rule(rule_id)
    assert d.decisive_rule.rule == rule_id
    assert d.decisive_rule.rank == rule.rank
    assert d.decisive_rule.safeguard == rule.safeguard
    assert d.decisive_rule.decline_reason == rule.decline_reason


def test_decisive_of_reads_old_decisions_without_the_field(decide) -> None:
    """A Decision v1 stored before v2 has no ``decisive_rule``: found by the reason's text."""
    from securecomm.law.engine import decisive_of

    d = decide("tfsc-2011", arrest=charges(SPEEDING))
    old = json.loads(d.model_dump_json())
    del old["decisive_rule"]
    got = decisive_of(old)
    assert got == d.decisive_rule
    # Decision v1 stays backward compatible: an old record still validates, field absent
    from securecomm.law.schema import Decision

    legacy = Decision.model_validate(old)
    assert legacy.decisive_rule is None and decisive_of(legacy) == d.decisive_rule
    assert got.decline_reason == "minor_traffic"
    assert decisive_of(json.loads(d.model_dump_json())) == d.decisive_rule


def test_variant_inherits_safeguard_of_a_replaced_rule() -> None:
    from securecomm.law.packs import apply_variant

    variant = apply_variant({
        "name": "tfsc-local", "base": "tfsc-2011",
        "replace_rules": {"actions.tfsc.minor-traffic-only": {
            "kind": "action", "when": "every_charge('minor_traffic')", "outcome": "no_detainer",
            "rank": 80, "citation": "local ordinance 12", "text": "Minor traffic: no detainer."}},
    })  # fmt: skip
    rule = variant.rule("actions.tfsc.minor-traffic-only")
    assert rule.safeguard == actions.TFSC_MINOR_TRAFFIC.safeguard
    assert rule.decline_reason == "minor_traffic"
    assert rule.citation == "local ordinance 12"
