"""Victims, witnesses and plaintiffs (DESIGN 3.5; Morton June 17, 2011; report IV.2, IV rec. 2)
— rules/protections.py, with the action rules that use it (3.6 ranks 90 and the Task Force
supervisor rule)."""

from __future__ import annotations

import pytest

from securecomm.law.rules import protections

PACKS = ("morton-2011", "tfsc-2011", "tfsc-2011-strict", "pep-2014")
TFSC = ("tfsc-2011", "tfsc-2011-strict")
PEP_DECIDED = "2015-03-02T10:00:00-07:00"


def cv(ncic: str, severity: str = "misdemeanor", **kw) -> dict:
    return {"ncic": ncic, "severity": severity, **kw}


def ch(ncic: str, literal: str = "", severity: str = "misdemeanor", **kw) -> dict:
    return {"ncic": ncic, "literal": literal, "severity": severity, **kw}


PROTECTED: dict[str, dict] = {
    "crime_victim": {"flags": {"crime_victim": True}},
    "crime_witness": {"flags": {"crime_witness": True}},
    "domestic_violence_victim": {"flags": {"domestic_violence_victim": True}},
    "civil_rights_plaintiff": {"flags": {"civil_rights_plaintiff": True}},
    "u_visa": {"person": {"pending_relief": ["u_visa"]}},
    "t_visa": {"person": {"pending_relief": ["t_visa"]}},
    "vawa": {"person": {"pending_relief": ["vawa"]}},
}

AGGRAVATING: dict[str, dict] = {
    "national_security": {"flags": {"national_security": True}},
    "gang": {"flags": {"gang_member": True}},
    "level_1": {"convictions": [cv("0901", "felony")]},
    "serious_public_safety_risk": {"flags": {"serious_public_safety_risk": True}},
}


def merge(*parts: dict) -> dict:
    out: dict = {}
    for part in parts:
        for key, value in part.items():
            if isinstance(value, dict):
                out[key] = {**out.get(key, {}), **value}
            else:
                out[key] = value
    return out


def test_every_protection_rule_has_a_scenario(decide, expect) -> None:
    assert {r.id for r in protections.RULES} == {
        "protections.protected-person",
        "protections.aggravating",
    }
    expect(
        decide("morton-2011", **PROTECTED["crime_victim"]), rules=("protections.protected-person",)
    )
    expect(
        decide("morton-2011", **merge(PROTECTED["crime_victim"], AGGRAVATING["gang"])),
        rules=("protections.protected-person", "protections.aggravating"),
    )


@pytest.mark.parametrize("pack", PACKS)
@pytest.mark.parametrize("kind", sorted(PROTECTED))
def test_protected_not_aggravating_no_detainer(decide, expect, pack, kind) -> None:
    d = decide(pack, **PROTECTED[kind])
    expect(
        d,
        removable=True,
        action="no_detainer",
        supervisor=False,
        decisive="actions.protected-not-aggravating",
        rules=("protections.protected-person",),
        not_rules=("protections.aggravating",),
        has_positive=("victim_witness_or_plaintiff",),
    )
    assert "detainer" not in d.lea_disclosure.fields


@pytest.mark.parametrize("pack", PACKS)
def test_protection_outranks_pack_rules(decide, expect, pack) -> None:
    """A Level-2 felon (not aggravating) who is a witness: rank 90 beats the pack's rules,
    including the PEP transfer priority 1(d)."""
    d = decide(
        pack,
        decided_at=PEP_DECIDED,
        flags={"crime_witness": True},
        convictions=[cv("2399", "felony")],
        arrest={"charges": [ch("7399", "LOITERING")]},
    )
    expect(d, action="no_detainer", level=2, decisive="actions.protected-not-aggravating")
    base = {
        "morton-2011": "actions.morton.removable-detainer",
        "tfsc-2011": "actions.morton.removable-detainer",
        "tfsc-2011-strict": "actions.morton.removable-detainer",
        "pep-2014": "actions.pep.transfer-priority-detainer",
    }[pack]
    expect(d, outranked=(base,))


def test_pending_asylum_is_not_a_protection(decide, expect) -> None:
    d = decide("morton-2011", person={"pending_relief": ["asylum"]})
    expect(d, action="detainer", not_rules=("protections.protected-person",))


@pytest.mark.parametrize("pack", PACKS)
@pytest.mark.parametrize("aggravating", sorted(AGGRAVATING))
@pytest.mark.parametrize("kind", ["crime_victim", "u_visa"])
def test_protected_and_aggravating_base_action(decide, expect, pack, aggravating, kind) -> None:
    """Protected and aggravating -> the action the case gets without the protection, and
    requires_supervisor_approval in the Task Force packs only (IV rec. 2)."""
    overrides = merge({"decided_at": PEP_DECIDED}, AGGRAVATING[aggravating])
    unprotected = decide(pack, **overrides)
    d = decide(pack, **merge(overrides, PROTECTED[kind]))
    expect(
        d,
        action=unprotected.action,
        supervisor=pack in TFSC,
        rules=("protections.protected-person", "protections.aggravating"),
        not_rules=("actions.protected-not-aggravating",),
    )
    if pack in TFSC:
        expect(d, rules=("actions.tfsc.protected-aggravating-supervisor",))
    else:
        expect(d, not_rules=("actions.tfsc.protected-aggravating-supervisor",))


@pytest.mark.parametrize("pack", TFSC)
def test_protected_gang_minor_with_minor_traffic_keeps_pack_rule(decide, expect, pack) -> None:
    """A 15-year-old gang member (aggravating, but not Morton 1(c)) who is a witness, arrested
    for speeding: the minor-traffic rule decides; nobody would be held, so (v2) no supervisor
    approval is asked for."""
    d = decide(
        pack,
        person={"birth_date": "1996-01-01", "entered_us_on": "1998-01-01"},
        flags={"gang_member": True, "crime_witness": True},
        arrest={"charges": [ch("5499", "SPEEDING")]},
    )
    expect(
        d,
        action="no_detainer",
        supervisor=False,
        priority=None,
        decisive="actions.tfsc.minor-traffic-only",
    )


def test_protected_gang_16_plus_detainer_with_supervisor(decide, expect) -> None:
    d = decide(
        "tfsc-2011",
        flags={"gang_member": True, "crime_victim": True},
        arrest={"charges": [ch("5499", "SPEEDING")]},
    )
    expect(d, action="detainer", supervisor=True, priority="1", bases=("1(c)",))
    d = decide(
        "morton-2011",
        flags={"gang_member": True, "crime_victim": True},
        arrest={"charges": [ch("5499", "SPEEDING")]},
    )
    expect(d, action="detainer", supervisor=False)


@pytest.mark.parametrize("pack", PACKS)
def test_level_2_is_not_aggravating(decide, expect, pack) -> None:
    d = decide(pack, flags={"crime_victim": True}, convictions=[cv("2399", "felony")])
    expect(d, action="no_detainer", not_rules=("protections.aggravating",))


@pytest.mark.parametrize("pack", PACKS)
def test_not_removable_outranks_protection(decide, expect, pack) -> None:
    d = decide(
        pack,
        person={"citizenship_status": "unknown", "pending_relief": ["vawa"]},
    )
    expect(
        d,
        action="no_action",
        decisive="actions.status-unknown",
        outranked=("actions.protected-not-aggravating",),
    )
