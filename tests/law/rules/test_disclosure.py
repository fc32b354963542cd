"""Information returned to the LEA (DESIGN 3.8; report IV.3, IV rec. 3) — rules/disclosure.py."""

from __future__ import annotations

import pytest

from securecomm.law.engine import CompiledPack
from securecomm.law.packs import PACKS as ALL_PACKS
from securecomm.law.packs import apply_variant
from securecomm.law.rules import disclosure
from securecomm.law.schema import Case

PACKS = ("morton-2011", "tfsc-2011", "tfsc-2011-strict", "pep-2014")
TFSC = ("tfsc-2011", "tfsc-2011-strict")
PEP_DECIDED = "2015-03-02T10:00:00-07:00"

PUBLIC_SAFETY = ("identity", "aliases", "warrants", "watch_list", "gang")
FULL = (*PUBLIC_SAFETY, "immigration_status")


def cv(ncic: str, severity: str = "misdemeanor", **kw) -> dict:
    return {"ncic": ncic, "severity": severity, **kw}


def ch(ncic: str, literal: str = "", severity: str = "misdemeanor", **kw) -> dict:
    return {"ncic": ncic, "literal": literal, "severity": severity, **kw}


def pref(value: str, honors: bool = True) -> dict:
    return {"disclosure": value, "honors_detainers": honors}


# one case per action, all in the same jurisdiction setup
ACTION_CASES: dict[str, tuple[str, dict]] = {
    "no_action": ("morton-2011", {"person": {"citizenship_status": "unknown"}}),
    "no_detainer": ("tfsc-2011", {"arrest": {"charges": [ch("5499", "SPEEDING")]}}),
    "conditional_detainer": ("tfsc-2011", {"arrest": {"charges": [ch("7399", "LOITERING")]}}),
    "detainer": ("morton-2011", {}),
    "notification_request": (
        "pep-2014",
        {"decided_at": PEP_DECIDED, "convictions": [cv("2399", "felony")]},
    ),
}
DELIVERED = {"detainer": "detainer", "conditional_detainer": "detainer"}


def test_every_disclosure_rule_is_exercised(decide, expect) -> None:
    ids = {r.id for r in disclosure.RULES} | {disclosure.CITIZEN_SUPPRESSION.id}
    seen: set[str] = set()
    for action, (pack, overrides) in ACTION_CASES.items():
        honors = action != "notification_request"
        d = decide(pack, jurisdiction=pref("full", honors), **overrides)
        expect(d, action=action)
        seen |= {r.rule for r in d.reasons}
    d = decide("tfsc-2011", person={"citizenship_status": "naturalized_citizen"})
    seen |= {r.rule for r in d.reasons}
    assert ids <= seen, ids - seen


@pytest.mark.parametrize("action", sorted(ACTION_CASES))
@pytest.mark.parametrize(
    ("preference", "info"),
    [("full", FULL), ("public_safety_only", PUBLIC_SAFETY), ("none", ())],
)
def test_fields_per_preference_and_action(decide, expect, action, preference, info) -> None:
    pack, overrides = ACTION_CASES[action]
    honors = action != "notification_request"
    d = decide(pack, jurisdiction=pref(preference, honors), **overrides)
    expect(d, action=action)
    requests: tuple[str, ...] = ()
    if action in DELIVERED:
        requests = ("detainer",)
    elif action == "notification_request":
        requests = ("notification_request",)
    expect(d, fields=(*info, *requests))
    assert d.lea_disclosure.notify is bool(info or requests)
    for field in (*info, *requests):
        expect(d, rules=(f"disclosure.{field}",))
    if preference != "full":
        expect(d, not_rules=("disclosure.immigration_status",))


@pytest.mark.parametrize("pack", PACKS)
def test_opt_out_receives_nothing_but_requests(decide, expect, pack) -> None:
    d = decide(pack, jurisdiction=pref("none"), decided_at=PEP_DECIDED)
    if d.action == "detainer":
        expect(d, fields=("detainer",))
        assert d.lea_disclosure.notify
    else:
        expect(d, fields=())
        assert not d.lea_disclosure.notify


def test_public_safety_only_never_includes_immigration_status(decide, expect) -> None:
    for pack in PACKS:
        d = decide(
            pack, jurisdiction=pref("public_safety_only"), convictions=[cv("0901", "felony")]
        )
        assert "immigration_status" not in d.lea_disclosure.fields
        assert set(PUBLIC_SAFETY) <= set(d.lea_disclosure.fields)


# --------------------------------------------------------------------------- naturalized


@pytest.mark.parametrize("preference", ["full", "public_safety_only", "none"])
@pytest.mark.parametrize("pack", TFSC)
def test_naturalized_citizen_no_hit_information_in_task_force_packs(
    decide, expect, pack, preference
) -> None:
    """IV rec. 3: 'ICE should not send ... any immigration database hit information on persons
    who are naturalized U.S. citizens.'"""
    d = decide(
        pack,
        jurisdiction=pref(preference),
        person={
            "citizenship_status": "naturalized_citizen",
            "final_order_of_removal_on": "1998-01-01",
        },
        convictions=[cv("2399", "felony")],
        flags={"gang_member": True, "outstanding_criminal_warrant": True},
    )
    expect(
        d,
        action="no_action",
        removable=False,
        fields=(),
        rules=("disclosure.citizen-suppressed",),
    )
    assert d.lea_disclosure.notify is False
    assert not [
        r
        for r in d.reasons
        if r.rule.startswith("disclosure.")
        and r.rule != "disclosure.citizen-suppressed"
    ]


@pytest.mark.parametrize("pack", ["morton-2011", "pep-2014"])
def test_naturalized_citizen_suppression_only_in_task_force_packs(decide, expect, pack) -> None:
    d = decide(pack, person={"citizenship_status": "naturalized_citizen"})
    expect(
        d, action="no_action", fields=FULL, not_rules=("disclosure.citizen-suppressed",)
    )
    assert disclosure.CITIZEN_SUPPRESSION.id not in {r.id for r in ALL_PACKS[pack].rules}


@pytest.mark.parametrize("preference", ["full", "public_safety_only", "none"])
@pytest.mark.parametrize("pack", TFSC)
def test_citizen_by_birth_is_suppressed_too(decide, expect, pack, preference) -> None:
    """v2: a US-born citizen falsely matched to an immigration record suffers the harm IV rec. 3
    names for naturalized citizens: no hit information reaches the police."""
    d = decide(
        pack,
        jurisdiction=pref(preference),
        person={"citizenship_status": "us_citizen_by_birth"},
        flags={"gang_member": True, "outstanding_criminal_warrant": True},
    )
    expect(d, action="no_action", fields=(), rules=("disclosure.citizen-suppressed",))
    assert d.lea_disclosure.notify is False
    assert d.priority is None and d.priority_bases == ()


@pytest.mark.parametrize("pack", TFSC)
def test_requests_delivered_even_when_suppressed(pack) -> None:
    """A variant in which a naturalized citizen gets a detainer (a what-if only): the detainer
    is still delivered — it is a request to the LEA — while hit information stays suppressed."""
    variant = apply_variant(
        {"name": "what-if", "base": pack, "disable_rules": ["actions.not-removable"]}
    )
    case = Case.model_validate(
        {
            "case_id": "nat-1",
            "decided_at": "2011-10-03T10:00:00-06:00",
            "jurisdiction": {"ori": "CO0010000", "state": "CO", "timezone": "America/Denver"},
            "person": {"citizenship_status": "naturalized_citizen"},
        }
    )
    d = CompiledPack(variant).decide(case)
    assert d.action == "detainer"
    assert d.lea_disclosure.fields == ("detainer",)
    assert d.lea_disclosure.notify is True


def test_disclosure_rule_citations() -> None:
    for rule in disclosure.RULES:
        assert rule.kind == "disclosure" and rule.field
        assert rule.citation.strip() and rule.text.strip()
    always = {r.field for r in disclosure.RULES if r.always}
    assert always == {"detainer", "notification_request"}
    assert "IV rec. 3" in disclosure.CITIZEN_SUPPRESSION.citation
