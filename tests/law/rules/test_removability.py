"""Removability, simplified (DESIGN 3.2; INA 212/237) — rules/removability.py."""

from __future__ import annotations

import pytest

from securecomm.law.rules import removability

PACKS = ("morton-2011", "tfsc-2011", "tfsc-2011-strict", "pep-2014")
LAWFUL = ("lawful_permanent_resident", "nonimmigrant_visa", "refugee_asylee", "parolee")


def person(status: str, **kw) -> dict:
    entry = "without_inspection" if status == "entered_without_inspection" else "inspected"
    return {"citizenship_status": status, "entry": entry, **kw}


def lpr(**kw) -> dict:
    return person("lawful_permanent_resident", lpr_since="2005-06-01", **kw)


def cv(ncic: str, severity: str = "misdemeanor", **kw) -> dict:
    return {"ncic": ncic, "severity": severity, **kw}


def ch(ncic: str, literal: str = "", severity: str = "misdemeanor", **kw) -> dict:
    return {"ncic": ncic, "literal": literal, "severity": severity, **kw}


# rule id -> (case overrides, expected removable). One scenario per rule of the module.
SCENARIOS: dict[str, tuple[dict, bool]] = {
    "removability.citizen": ({"person": person("naturalized_citizen")}, False),
    "removability.status-unknown": ({"person": person("unknown")}, False),
    "removability.unlawful-presence": ({"person": person("visa_overstay")}, True),
    "removability.final-order": (
        {"person": lpr(final_order_of_removal_on="2009-04-01")},
        True,
    ),
    "removability.ground.aggravated-felony": (
        {"person": lpr(), "convictions": [cv("0303", "felony")]},  # alien smuggling, (N)
        True,
    ),
    "removability.ground.controlled-substance": (
        {"person": lpr(), "convictions": [cv("3532")]},  # cocaine possession
        True,
    ),
    "removability.ground.firearm": ({"person": lpr(), "convictions": [cv("5212")]}, True),
    "removability.ground.domestic-violence": (
        {"person": lpr(), "convictions": [cv("1313", domestic_violence=True)]},
        True,
    ),
    "removability.ground.two-cimt": (
        {
            "person": lpr(),
            "convictions": [cv("2399", incident_id="a"), cv("2399", incident_id="b")],
        },
        True,
    ),
    "removability.lawful-status-no-ground": ({"person": lpr()}, False),
}


def test_every_removability_rule_has_a_scenario() -> None:
    assert set(SCENARIOS) == {r.id for r in removability.RULES}


@pytest.mark.parametrize("pack", PACKS)
@pytest.mark.parametrize("rule_id", sorted(SCENARIOS))
def test_rule_fires_with_citation(decide, expect, pack, rule_id) -> None:
    overrides, removable = SCENARIOS[rule_id]
    d = decide(pack, **overrides)
    expect(d, removable=removable, rules=(rule_id,))
    if not removable:
        expect(d, action="no_action")


# --------------------------------------------------------------------------- citizens, unknown


@pytest.mark.parametrize("pack", PACKS)
def test_naturalized_citizen_is_never_removable_even_with_record(decide, expect, pack) -> None:
    """An old IDENT record, a final order and an aggravated felony do not make a citizen
    removable (3.2)."""
    d = decide(
        pack,
        person=person("naturalized_citizen", final_order_of_removal_on="1999-01-01"),
        convictions=[cv("0901", "felony")],
    )
    expect(
        d,
        removable=False,
        action="no_action",
        decisive="actions.not-removable",
        rules=("removability.citizen",),
        not_rules=("removability.final-order", "removability.ground.aggravated-felony"),
    )


@pytest.mark.parametrize("pack", PACKS)
def test_us_citizen_by_birth_false_match_no_action(decide, expect, pack) -> None:
    d = decide(
        pack,
        person=person("us_citizen_by_birth"),
        arrest={"charges": [ch("2399", "THEFT", "felony")]},
    )
    expect(d, removable=False, action="no_action", rules=("removability.citizen",))


@pytest.mark.parametrize("pack", PACKS)
def test_status_unknown_no_action(decide, expect, pack) -> None:
    d = decide(pack, person=person("unknown"), convictions=[cv("1315", "felony")])
    expect(
        d,
        removable=False,
        action="no_action",
        decisive="actions.status-unknown",
        rules=("removability.status-unknown",),
    )


# --------------------------------------------------------------------------- unlawful presence


@pytest.mark.parametrize("status", ["entered_without_inspection", "visa_overstay"])
@pytest.mark.parametrize("pack", PACKS)
def test_unlawfully_present_is_removable_without_any_conviction(decide, expect, pack, status):
    d = decide(pack, person=person(status))
    expect(d, removable=True, rules=("removability.unlawful-presence",))
    assert d.action != "no_action"


@pytest.mark.parametrize("status", LAWFUL)
def test_final_order_not_executed_makes_any_noncitizen_removable(decide, expect, status) -> None:
    d = decide("morton-2011", person=person(status, final_order_of_removal_on="2010-02-02"))
    expect(d, removable=True, action="detainer", rules=("removability.final-order",))


# --------------------------------------------------------------------------- lawful statuses


@pytest.mark.parametrize("status", LAWFUL)
def test_lawful_status_without_conviction_not_removable(decide, expect, status) -> None:
    d = decide("morton-2011", person=person(status))
    expect(
        d,
        removable=False,
        action="no_action",
        rules=("removability.lawful-status-no-ground",),
    )


@pytest.mark.parametrize("status", LAWFUL)
@pytest.mark.parametrize(
    ("conviction", "ground"),
    [
        (cv("3530", "felony"), "removability.ground.controlled-substance"),
        (cv("5202"), "removability.ground.firearm"),
        (cv("1316"), "removability.ground.domestic-violence"),  # stalking
        (cv("3802"), "removability.ground.domestic-violence"),  # child cruelty
        (cv("1313", domestic_violence=True), "removability.ground.domestic-violence"),
        (cv("2399", aggravated_felony=True), "removability.ground.aggravated-felony"),
    ],
)
def test_lawful_status_with_deportable_conviction_removable(
    decide, expect, status, conviction, ground
) -> None:
    d = decide("morton-2011", person=person(status), convictions=[conviction])
    expect(d, removable=True, action="detainer", rules=(ground,))


@pytest.mark.parametrize("pack", PACKS)
def test_lpr_one_theft_not_removable(decide, expect, pack) -> None:
    """One crime involving moral turpitude is not a deportable conviction (3.2)."""
    d = decide(pack, person=lpr(), convictions=[cv("2399", incident_id="inc-1")])
    expect(
        d,
        removable=False,
        action="no_action",
        rules=("removability.lawful-status-no-ground",),
        not_rules=("removability.ground.two-cimt",),
    )


@pytest.mark.parametrize("pack", PACKS)
def test_lpr_two_thefts_from_separate_incidents_removable(decide, expect, pack) -> None:
    d = decide(
        pack,
        person=lpr(),
        convictions=[cv("2399", incident_id="inc-1"), cv("2399", incident_id="inc-2")],
    )
    expect(d, removable=True, rules=("removability.ground.two-cimt",))
    assert d.action != "no_action"


def test_lpr_two_thefts_from_one_incident_not_removable(decide, expect) -> None:
    """INA 237(a)(2)(A)(ii): two CIMTs 'not arising out of a single scheme'."""
    d = decide(
        "morton-2011",
        person=lpr(),
        convictions=[cv("2399", incident_id="inc-1"), cv("2399", incident_id="inc-1")],
    )
    expect(d, removable=False, action="no_action", not_rules=("removability.ground.two-cimt",))


def test_unattributed_convictions_are_separate_incidents(decide, expect) -> None:
    d = decide("morton-2011", person=lpr(), convictions=[cv("2202"), cv("2602")])
    expect(d, removable=True, rules=("removability.ground.two-cimt",))


def test_current_charge_convicted_counts_as_second_cimt(decide, expect) -> None:
    d = decide(
        "tfsc-2011",
        person=lpr(),
        convictions=[cv("2399", incident_id="old")],
        arrest={"charges": [ch("2399", "SHOPLIFTING", disposition="convicted")]},
    )
    expect(d, removable=True, rules=("removability.ground.two-cimt",))


def test_pending_charge_is_not_a_conviction(decide, expect) -> None:
    d = decide(
        "morton-2011",
        person=lpr(),
        arrest={"charges": [ch("1313", "ASSAULT", domestic_violence=True)]},
    )
    expect(d, removable=False, action="no_action")


@pytest.mark.parametrize("pack", PACKS)
def test_lpr_single_marijuana_possession_not_removable(decide, expect, pack) -> None:
    d = decide(pack, person=lpr(), convictions=[cv("3562")])
    expect(
        d,
        removable=False,
        action="no_action",
        not_rules=("removability.ground.controlled-substance",),
    )


@pytest.mark.parametrize("pack", PACKS)
def test_lpr_two_marijuana_possessions_removable(decide, expect, pack) -> None:
    d = decide(pack, person=lpr(), convictions=[cv("3562"), cv("3562")])
    expect(d, removable=True, rules=("removability.ground.controlled-substance",))


def test_marijuana_sale_is_not_the_possession_exception(decide, expect) -> None:
    d = decide("morton-2011", person=lpr(), convictions=[cv("3560")])
    expect(d, removable=True, rules=("removability.ground.controlled-substance",))


def test_removable_findings_agree_with_the_decision(decide) -> None:
    """Every removability ground listed goes with removable=True."""
    for rule_id, (overrides, _removable) in SCENARIOS.items():
        d = decide("morton-2011", **overrides)
        grounds = {r.rule for r in d.reasons if r.rule.startswith("removability.ground.")}
        if grounds:
            assert d.removable, rule_id
