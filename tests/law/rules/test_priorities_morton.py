"""Morton March 2, 2011 enforcement priorities (DESIGN 3.4) — rules/priorities_morton.py.

Used by morton-2011, tfsc-2011 and tfsc-2011-strict (where any basis is a "higher category").
"""

from __future__ import annotations

import pytest

from securecomm.law.packs import PACKS as ALL_PACKS
from securecomm.law.rules import priorities_morton

MORTON_PACKS = ("morton-2011", "tfsc-2011", "tfsc-2011-strict")


def cv(ncic: str, severity: str = "misdemeanor", **kw) -> dict:
    return {"ncic": ncic, "severity": severity, **kw}


# label -> (case overrides, priority). Decided 2011-10-03; the base person entered in 2000.
SCENARIOS: dict[str, tuple[dict, str]] = {
    "1(a)": ({"flags": {"national_security": True}}, "1"),
    "1(b)": ({"convictions": [cv("2399")]}, "1"),
    "1(c)": ({"flags": {"gang_member": True}}, "1"),  # born 1980: aged 31
    "1(d)": ({"flags": {"outstanding_criminal_warrant": True}}, "1"),
    "1(e)": ({"flags": {"serious_public_safety_risk": True}}, "1"),
    "2(a)": ({"person": {"entered_us_on": "2010-06-01"}}, "2"),
    "2(b)": ({"person": {"visa_abuse": True}}, "2"),
    "3(a)": ({"person": {"final_order_of_removal_on": "2005-01-01"}}, "3"),
    "3(b)": ({"person": {"removed_on": ["2004-03-01"]}}, "3"),
    "3(c)": ({"person": {"immigration_fraud": True}}, "3"),
}


def test_every_morton_priority_rule_has_a_scenario() -> None:
    assert {f"priorities.morton.{k}" for k in SCENARIOS} == {r.id for r in priorities_morton.RULES}
    for rule in priorities_morton.RULES:
        assert rule.kind == "priority"
        assert rule.label == rule.id.rsplit(".", 1)[1]
        assert rule.priority == rule.label[0]


@pytest.mark.parametrize("pack", MORTON_PACKS)
@pytest.mark.parametrize("label", sorted(SCENARIOS))
def test_basis_fires_alone(decide, expect, pack, label) -> None:
    overrides, priority = SCENARIOS[label]
    d = decide(pack, **overrides)
    bases = {label, "level-3"} if label == "1(b)" else {label}
    expect(d, priority=priority, bases=bases, rules=(f"priorities.morton.{label}",))
    reason = next(r for r in d.reasons if r.rule == f"priorities.morton.{label}")
    assert "March 2, 2011" in reason.citation
    assert f"Priority {label}" in reason.citation


def test_no_basis_no_priority(decide, expect) -> None:
    for pack in MORTON_PACKS:
        expect(decide(pack), priority=None, bases=())


def test_pep_does_not_use_morton_priorities(decide) -> None:
    d = decide("pep-2014", flags={"outstanding_criminal_warrant": True})
    assert not [r for r in d.reasons if r.rule.startswith("priorities.morton.")]
    assert not [r for r in ALL_PACKS["pep-2014"].rules if r.id.startswith("priorities.morton.")]


def test_highest_priority_wins_and_all_bases_listed(decide, expect) -> None:
    d = decide(
        "morton-2011",
        flags={"outstanding_criminal_warrant": True},
        person={"entered_us_on": "2010-06-01", "removed_on": ["2009-01-01"]},
    )
    expect(
        d,
        priority="1",
        bases=("1(d)", "2(a)", "3(b)"),
        rules=("priorities.morton.1(d)", "priorities.morton.2(a)", "priorities.morton.3(b)"),
    )
    d = decide("morton-2011", person={"visa_abuse": True, "immigration_fraud": True})
    expect(d, priority="2", bases=("2(b)", "3(c)"))


# --------------------------------------------------------------------------- 1(c) gang age


@pytest.mark.parametrize(
    ("birth_date", "decided_at", "of_age"),
    [
        ("1995-10-04", "2011-10-03T10:00:00-06:00", False),  # 15, birthday tomorrow
        ("1995-10-03", "2011-10-03T10:00:00-06:00", True),  # 16 today
        ("1996-02-29", "2012-02-28T10:00:00-07:00", False),  # leap-day birthday: 15
        ("1996-02-29", "2012-02-29T10:00:00-07:00", True),  # 16 on the leap day itself
    ],
)
@pytest.mark.parametrize("pack", MORTON_PACKS)
def test_gang_participant_aged_15_vs_16(
    decide, expect, pack, birth_date, decided_at, of_age
) -> None:
    d = decide(
        pack,
        decided_at=decided_at,
        person={"birth_date": birth_date, "entered_us_on": "2000-01-01"},
        flags={"gang_member": True},
    )
    if of_age:
        expect(d, priority="1", bases=("1(c)",), rules=("priorities.morton.1(c)",))
    else:
        expect(d, priority=None, not_rules=("priorities.morton.1(c)",))
    # the negative discretion factor is listed whatever the age
    expect(d, has_negative=("gang_member",))


def test_gang_member_of_unknown_age_is_not_1c(decide, expect) -> None:
    d = decide("morton-2011", person={"birth_date": None}, flags={"gang_member": True})
    expect(d, priority=None, not_rules=("priorities.morton.1(c)",))


# --------------------------------------------------------------------------- 2(a) recent entrant


@pytest.mark.parametrize(
    ("entered_us_on", "recent"),
    [
        ("2011-10-03", True),  # entered today
        ("2010-06-01", True),
        ("2008-10-04", True),  # one day short of three years
        # exactly three years before the decision: not "within" the parameter's three whole
        # years (the code's reading: years_since_entry < 3; see the test report)
        ("2008-10-03", False),
        ("2008-10-02", False),
        ("2000-01-01", False),
    ],
)
@pytest.mark.parametrize("pack", MORTON_PACKS)
def test_recent_entrant_boundary_three_years(decide, expect, pack, entered_us_on, recent) -> None:
    d = decide(pack, person={"entered_us_on": entered_us_on})
    if recent:
        expect(d, priority="2", bases=("2(a)",), rules=("priorities.morton.2(a)",))
    else:
        expect(d, priority=None, not_rules=("priorities.morton.2(a)",))


@pytest.mark.parametrize(
    "person",
    [
        # overstay: entered with inspection
        {
            "citizenship_status": "visa_overstay",
            "entry": "inspected",
            "entered_us_on": "2011-01-01",
        },
        # entry date unknown
        {"entered_us_on": None},
    ],
)
def test_recent_entry_needs_unlawful_entry_and_a_date(decide, expect, person) -> None:
    d = decide("morton-2011", person=person)
    expect(d, not_rules=("priorities.morton.2(a)",))


def test_entry_without_inspection_by_entry_field(decide, expect) -> None:
    """entered_unlawfully: entry = without_inspection even when the status is now different."""
    d = decide(
        "morton-2011",
        person={
            "citizenship_status": "visa_overstay",
            "entry": "without_inspection",
            "entered_us_on": "2011-01-01",
        },
    )
    expect(d, bases=("2(a)",))


# --------------------------------------------------------------------------- 1(b) levels


def test_1b_level_in_task_force_packs_ignores_minor_traffic(decide, expect) -> None:
    speeding = cv("5499", literal="SPEEDING")
    expect(decide("morton-2011", convictions=[speeding]), bases=("1(b)", "level-3"))
    for pack in ("tfsc-2011", "tfsc-2011-strict"):
        expect(
            decide(pack, convictions=[speeding]),
            priority=None,
            not_rules=("priorities.morton.1(b)",),
        )


def test_infraction_conviction_is_not_1b(decide, expect) -> None:
    d = decide("morton-2011", convictions=[cv("5311", "infraction")])
    expect(d, priority=None, not_rules=("priorities.morton.1(b)",))
