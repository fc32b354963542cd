"""Johnson November 20, 2014 priorities (DESIGN 3.4) and their PEP consequence (3.6) —
rules/priorities_johnson.py."""

from __future__ import annotations

import pytest

from securecomm.law.packs import PACKS as ALL_PACKS
from securecomm.law.rules import priorities_johnson

PEP = "pep-2014"
DECIDED = "2015-03-02T10:00:00-07:00"


def cv(ncic: str, severity: str = "misdemeanor", **kw) -> dict:
    return {"ncic": ncic, "severity": severity, **kw}


def ch(ncic: str, literal: str = "", severity: str = "misdemeanor", **kw) -> dict:
    return {"ncic": ncic, "literal": literal, "severity": severity, **kw}


# label -> (case overrides, priority, PEP transfer priority?)
SCENARIOS: dict[str, tuple[dict, str, bool]] = {
    "1(a)": ({"flags": {"national_security": True}}, "1", True),
    "1(b)": ({"flags": {"apprehended_at_border": True}}, "1", False),
    "1(c)": ({"convictions": [cv("1313", gang_element=True)]}, "1", True),
    "1(d)": ({"convictions": [cv("2399", "felony")]}, "1", True),
    "1(e)": ({"convictions": [cv("2399", aggravated_felony=True)]}, "1", True),
    "2(a)": ({"convictions": [cv("2399", incident_id=f"i{i}") for i in range(3)]}, "2", True),
    "2(b)": ({"convictions": [cv("1313", domestic_violence=True)]}, "2", True),
    "2(c)": ({"person": {"entered_us_on": "2015-01-10"}}, "2", False),
    "2(d)": ({"person": {"visa_abuse": True}}, "2", False),
    "3": ({"person": {"final_order_of_removal_on": "2014-06-01"}}, "3", False),
}


def test_every_johnson_priority_rule_has_a_scenario() -> None:
    assert {f"priorities.johnson.{k}" for k in SCENARIOS} == {
        r.id for r in priorities_johnson.RULES
    }
    assert set(priorities_johnson.PEP_TRANSFER_BASES) == {
        k for k, (_, _, transfer) in SCENARIOS.items() if transfer
    }


@pytest.mark.parametrize("label", sorted(SCENARIOS))
def test_basis_fires_alone_with_pep_action(decide, expect, label) -> None:
    overrides, priority, transfer = SCENARIOS[label]
    d = decide(PEP, decided_at=DECIDED, **overrides)
    expect(
        d,
        priority=priority,
        rules=(f"priorities.johnson.{label}",),
        action="detainer" if transfer else "no_detainer",
    )
    assert label in d.priority_bases
    reason = next(r for r in d.reasons if r.rule == f"priorities.johnson.{label}")
    assert "Nov. 20, 2014" in reason.citation and f"Priority {label}" in reason.citation
    if transfer:
        expect(
            d,
            decisive="actions.pep.transfer-priority-detainer",
            outranked=("actions.pep.not-a-transfer-priority",),
        )
    else:
        expect(d, decisive="actions.pep.not-a-transfer-priority")


@pytest.mark.parametrize("label", sorted(SCENARIOS))
def test_transfer_priority_where_detainers_not_honored(decide, expect, label) -> None:
    overrides, priority, transfer = SCENARIOS[label]
    d = decide(PEP, decided_at=DECIDED, jurisdiction={"honors_detainers": False}, **overrides)
    expect(
        d,
        priority=priority,
        action="notification_request" if transfer else "no_detainer",
    )
    if transfer:
        expect(d, decisive="actions.pep.transfer-priority-notification")
        assert "notification_request" in d.lea_disclosure.fields


def test_morton_packs_do_not_use_johnson_priorities() -> None:
    for name in ("morton-2011", "tfsc-2011", "tfsc-2011-strict"):
        assert not [r for r in ALL_PACKS[name].rules if r.id.startswith("priorities.johnson.")]


def test_no_priority_no_detainer(decide, expect) -> None:
    d = decide(PEP, decided_at=DECIDED)
    expect(d, priority=None, bases=(), action="no_detainer")


def test_highest_priority_reported_with_all_bases(decide, expect) -> None:
    d = decide(
        PEP,
        decided_at=DECIDED,
        person={"entered_us_on": "2014-05-01", "final_order_of_removal_on": "2014-09-01"},
        convictions=[cv("1313", domestic_violence=True)],
    )
    expect(d, priority="2", bases=("2(b)", "2(c)", "3"), action="detainer")


# --------------------------------------------------------------------------- 2(a)


@pytest.mark.parametrize(
    ("convictions", "is_2a"),
    [
        ([cv("2399", incident_id=f"i{i}") for i in range(3)], True),  # three incidents
        ([cv("2399", incident_id="one")] * 3, False),  # three from one incident
        (
            [cv("2399", incident_id="a"), cv("2399", incident_id="a"), cv("2399", incident_id="b")],
            False,
        ),
        ([cv("2399"), cv("5311"), cv("5707")], True),  # unattributed: each its own incident
        # minor traffic is excluded
        (
            [
                cv("2399", incident_id="a"),
                cv("2399", incident_id="b"),
                cv("5499", literal="SPEEDING", incident_id="c"),
            ],
            False,
        ),
        # immigration-status offense is excluded
        (
            [cv("2399", incident_id="a"), cv("2399", incident_id="b"), cv("0301", incident_id="c")],
            False,
        ),
        # serious traffic (DUI) is not minor traffic: it counts
        (
            [cv("2399", incident_id="a"), cv("2399", incident_id="b"), cv("5404", incident_id="c")],
            True,
        ),
        # infractions are not misdemeanors
        (
            [
                cv("2399", incident_id="a"),
                cv("2399", incident_id="b"),
                cv("5311", "infraction", incident_id="c"),
            ],
            False,
        ),
    ],
)
def test_2a_three_misdemeanors_three_incidents(decide, expect, convictions, is_2a) -> None:
    d = decide(PEP, decided_at=DECIDED, convictions=convictions)
    if is_2a:
        expect(d, rules=("priorities.johnson.2(a)",), action="detainer")
    else:
        expect(d, not_rules=("priorities.johnson.2(a)",))


def test_2a_current_arrest_conviction_is_the_third_incident(decide, expect) -> None:
    d = decide(
        PEP,
        decided_at=DECIDED,
        convictions=[cv("2399", incident_id="a"), cv("5311", incident_id="b")],
        arrest={"charges": [ch("5707", "TRESPASS", disposition="convicted")]},
    )
    expect(d, bases=("2(a)",), action="detainer")
    d = decide(
        PEP,
        decided_at=DECIDED,
        convictions=[cv("2399", incident_id="a"), cv("5311", incident_id="b")],
        arrest={"charges": [ch("5707", "TRESPASS")]},  # pending
    )
    expect(d, bases=(), action="no_detainer")


# --------------------------------------------------------------------------- 2(b)


@pytest.mark.parametrize(
    "conviction",
    [
        cv("1313", domestic_violence=True),
        cv("1316"),  # stalking (a DV code)
        cv("3601"),  # sexual abuse of a child
        cv("6404"),  # sexual exploitation of a minor
        cv("2202"),  # burglary
        cv("5212"),  # unlawful firearm possession
        cv("3530"),  # drug distribution
        cv("5403"),  # DUI drugs
        cv("5404"),  # DUI alcohol
        cv("2399", sentence_days=90),  # 90 days' custody
        cv("2399", sentence_days=364),  # long, but short of (G)
    ],
)
def test_2b_significant_misdemeanor(decide, expect, conviction) -> None:
    d = decide(PEP, decided_at=DECIDED, convictions=[conviction])
    expect(d, action="detainer", rules=("priorities.johnson.2(b)",))
    # a misdemeanor can also be an aggravated felony (1(e)): sexual abuse of a minor (A),
    # child pornography (I), drug trafficking (B)
    assert set(d.priority_bases) in ({"2(b)"}, {"1(e)", "2(b)"})
    assert d.priority == ("1" if "1(e)" in d.priority_bases else "2")


@pytest.mark.parametrize(
    "conviction",
    [
        cv("2399", sentence_days=89),
        cv("2399", sentence_days=90, suspended=True),  # suspended excluded
        cv("2399", sentence_days=364, suspended=True),
        cv("2399"),
        cv("5311"),
        cv("1313"),  # simple assault, not domestic
    ],
)
def test_2b_not_significant(decide, expect, conviction) -> None:
    d = decide(PEP, decided_at=DECIDED, convictions=[conviction])
    expect(d, priority=None, action="no_detainer", not_rules=("priorities.johnson.2(b)",))


def test_pep_2b_significant_misdemeanor_detainer_or_notification(decide, expect) -> None:
    """DESIGN example: a 2(b) conviction -> detainer where detainers are honored,
    notification_request where they are not."""
    conviction = [cv("5404", literal="DUI", convicted_on="2014-12-01")]
    d = decide(PEP, decided_at=DECIDED, convictions=conviction)
    expect(d, priority="2", bases=("2(b)",), action="detainer")
    d = decide(
        PEP, decided_at=DECIDED, convictions=conviction, jurisdiction={"honors_detainers": False}
    )
    expect(
        d,
        priority="2",
        bases=("2(b)",),
        action="notification_request",
        rules=("actions.pep.transfer-priority-notification",),
        fields=(
            "identity",
            "aliases",
            "warrants",
            "watch_list",
            "gang",
            "immigration_status",
            "notification_request",
        ),
    )


def test_felony_dv_is_1d_not_2b(decide, expect) -> None:
    d = decide(PEP, decided_at=DECIDED, convictions=[cv("1313", "felony", domestic_violence=True)])
    expect(
        d, priority="1", rules=("priorities.johnson.1(d)",), not_rules=("priorities.johnson.2(b)",)
    )


# --------------------------------------------------------------------------- 2(c), 3, 1(c), 1(d)


@pytest.mark.parametrize(
    ("entered_us_on", "is_2c"),
    [
        ("2013-12-31", False),  # continuously present since before 2014-01-01
        ("2014-01-01", False),  # v2: present on 2014-01-01 is continuous presence since
        ("2014-01-02", True),
        ("2015-01-10", True),
        (None, False),  # date unknown: not established either way
    ],
)
def test_2c_entered_unlawfully_after_cutoff(decide, expect, entered_us_on, is_2c) -> None:
    d = decide(PEP, decided_at=DECIDED, person={"entered_us_on": entered_us_on})
    if is_2c:
        expect(d, priority="2", bases=("2(c)",), rules=("priorities.johnson.2(c)",))
    else:
        expect(d, priority=None, not_rules=("priorities.johnson.2(c)",))
    expect(d, action="no_detainer")  # 2(c) is not a transfer priority


def test_pep_2c_priority_2_reported_but_no_detainer(decide, expect) -> None:
    """DESIGN example: entered unlawfully in 2015 -> priority 2 reported, no detainer."""
    d = decide(
        PEP,
        decided_at="2015-11-02T09:00:00-05:00",
        jurisdiction={"timezone": "America/New_York", "ori": "NY0300000", "state": "NY"},
        person={"entered_us_on": "2015-04-12"},
    )
    expect(
        d,
        removable=True,
        priority="2",
        bases=("2(c)",),
        action="no_detainer",
        decisive="actions.pep.not-a-transfer-priority",
    )
    assert "detainer" not in d.lea_disclosure.fields


def test_2c_needs_unlawful_entry(decide, expect) -> None:
    d = decide(
        PEP,
        decided_at=DECIDED,
        person={
            "citizenship_status": "visa_overstay",
            "entry": "inspected",
            "entered_us_on": "2014-06-01",
        },
    )
    expect(d, not_rules=("priorities.johnson.2(c)",))


@pytest.mark.parametrize(("order_on", "is_3"), [("2013-12-31", False), ("2014-01-01", True)])
def test_3_final_order_on_or_after_cutoff(decide, expect, order_on, is_3) -> None:
    d = decide(PEP, decided_at=DECIDED, person={"final_order_of_removal_on": order_on})
    expect(d, removable=True, action="no_detainer")
    if is_3:
        expect(d, priority="3", bases=("3",))
    else:
        expect(d, priority=None)


@pytest.mark.parametrize(
    ("birth_date", "of_age"),
    [("1999-03-03", False), ("1999-03-02", True)],  # 15 / 16 on 2015-03-02
)
def test_1c_gang_participant_age(decide, expect, birth_date, of_age) -> None:
    d = decide(
        PEP,
        decided_at=DECIDED,
        person={"birth_date": birth_date, "entered_us_on": "2000-01-01"},
        flags={"gang_member": True},
    )
    if of_age:
        # v2: reported as 1(c), but PEP transfers 1(c) only on a conviction with a gang element
        expect(d, priority="1", bases=("1(c)",), action="no_detainer")
    else:
        expect(d, priority=None, action="no_detainer")


def test_1c_gang_element_conviction_regardless_of_age(decide, expect) -> None:
    d = decide(
        PEP,
        decided_at=DECIDED,
        person={"birth_date": "2000-01-01", "entered_us_on": "2001-01-01"},
        convictions=[cv("5311", gang_element=True)],
    )
    expect(d, priority="1", bases=("1(c)",), action="detainer")


@pytest.mark.parametrize(
    ("ncic", "literal"), [("0399", ""), ("0399", "FAILURE TO CARRY ALIEN REGISTRATION")]
)
def test_1d_excludes_state_or_local_status_felonies(decide, expect, ncic, literal) -> None:
    d = decide(PEP, decided_at=DECIDED, convictions=[cv(ncic, "felony", literal=literal)])
    expect(d, priority=None, action="no_detainer", level=2)


@pytest.mark.parametrize(
    ("ncic", "literal"),
    [("0301", ""), ("0301", "ILLEGAL ENTRY"), ("0399", "ILLEGAL RE-ENTRY 8 USC 1326"),
     ("0399", "REENTRY AFTER DEPORTATION")],
)  # fmt: skip
def test_1d_counts_federal_status_felonies(decide, expect, ncic, literal) -> None:
    """v2: only a *state or local* status offense is excluded; 8 U.S.C. 1325/1326 count."""
    d = decide(PEP, decided_at=DECIDED, convictions=[cv(ncic, "felony", literal=literal)])
    expect(d, priority="1", bases=("1(d)",), action="detainer", level=2)


def test_1e_and_1d_together(decide, expect) -> None:
    d = decide(PEP, decided_at=DECIDED, convictions=[cv("0901", "felony")])
    expect(d, priority="1", bases=("1(d)", "1(e)"), level=1, action="detainer")
