"""The conditional detainer after it is lodged (law/rules/conditional.py; report III rec. 1):
which charges it waits on, what activates it, what makes it lapse — and that the pipeline's
lapse rule and ``decide`` agree (v2 amendment 3)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from securecomm.law.packs import PACKS
from securecomm.law.rules import conditional

PARAMS = {n: p.value for n, p in PACKS["tfsc-2011"].parameters.items()}
SPEEDING = {"ncic": "5499", "literal": "SPEEDING", "severity": "infraction"}
LOITERING = {"ncic": "7399", "literal": "LOITERING", "severity": "misdemeanor"}
TRESPASS = {"ncic": "5707", "literal": "TRESPASSING", "severity": "misdemeanor"}


def with_dispositions(charges, *dispositions):
    return [{**c, "disposition": d} for c, d in zip(charges, dispositions, strict=True)]


def test_rules_are_cited() -> None:
    for rule in conditional.RULES:
        assert "III rec. 1" in rule.citation and rule.text and rule.id.startswith("conditional.")


def test_waits_on_the_charges_that_are_not_minor_traffic() -> None:
    charges = with_dispositions([SPEEDING, LOITERING, TRESPASS], "pending", "pending", "pending")
    assert conditional.conditioning_charges(charges, PARAMS) == [1, 2]
    only_traffic = with_dispositions([SPEEDING, SPEEDING], "pending", "pending")
    assert conditional.conditioning_charges(only_traffic, PARAMS) == [0, 1]


def test_conviction_of_a_conditioning_charge_activates() -> None:
    charges = with_dispositions([SPEEDING, LOITERING], "pending", "convicted")
    effect = conditional.disposition_effect(charges, 1, PARAMS)
    assert effect.kind == "activate" and effect.rule is conditional.ACTIVATION


def test_minor_traffic_conviction_does_not_activate() -> None:
    charges = with_dispositions([SPEEDING, LOITERING], "convicted", "pending")
    effect = conditional.disposition_effect(charges, 0, PARAMS)
    assert effect.kind is None and effect.still_pending == (1,)


def test_lapses_only_when_every_conditioning_charge_is_disposed_without_conviction() -> None:
    first = with_dispositions([LOITERING, TRESPASS], "dismissed", "pending")
    assert conditional.disposition_effect(first, 0, PARAMS).kind is None
    both = with_dispositions([LOITERING, TRESPASS], "dismissed", "acquitted")
    effect = conditional.disposition_effect(both, 1, PARAMS)
    assert effect.kind == "lapse" and effect.rule is conditional.LAPSE


def test_bad_index_is_an_error() -> None:
    with pytest.raises(ValueError, match="charge_index"):
        conditional.disposition_effect([{**LOITERING, "disposition": "dismissed"}], 3, PARAMS)


_MINOR = st.sampled_from([SPEEDING, LOITERING, TRESPASS,
                          {"ncic": "5311", "literal": "DISORDERLY CONDUCT", "severity": "misdemeanor"},
                          {"ncic": "5499", "literal": "NO INSURANCE", "severity": "misdemeanor"}])  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(charges=st.lists(_MINOR, min_size=1, max_size=5), outcome=st.sampled_from(["dismissed", "acquitted"]))  # fmt: skip
def test_lapse_and_decide_agree(decide, charges, outcome) -> None:
    """Whenever tfsc-2011 lodges a conditional detainer on an arrest, disposing its conditioning
    charges without a conviction lapses it at the last one — and deciding the same arrest with
    those dispositions gives no detainer (nothing to condition on)."""
    pending = [{**c, "disposition": "pending"} for c in charges]
    d = decide("tfsc-2011", arrest={"charges": pending})
    if d.action != "conditional_detainer":
        return
    waits_on = conditional.conditioning_charges(pending, PARAMS)
    current = [dict(c) for c in pending]
    effects = []
    for i in waits_on:
        current[i]["disposition"] = outcome
        effects.append(conditional.disposition_effect(current, i, PARAMS).kind)
    assert effects[-1] == "lapse" and all(e is None for e in effects[:-1]), effects
    after = decide("tfsc-2011", arrest={"charges": current})
    assert after.action == "no_detainer"
    assert after.decisive_rule.rule == "actions.tfsc.minor-misdemeanor-disposed"
