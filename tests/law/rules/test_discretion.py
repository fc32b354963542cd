"""Discretion factors (DESIGN 3.7; Morton June 17, 2011; report II rec. 2) — rules/discretion.py.

Listed, never decided automatically.
"""

from __future__ import annotations

import pytest

from securecomm.law.rules import discretion

PACKS = ("morton-2011", "tfsc-2011", "tfsc-2011-strict", "pep-2014")


def cv(ncic: str, severity: str = "misdemeanor", **kw) -> dict:
    return {"ncic": ncic, "severity": severity, **kw}


def ch(ncic: str, literal: str = "", severity: str = "misdemeanor", **kw) -> dict:
    return {"ncic": ncic, "literal": literal, "severity": severity, **kw}


LPR = {"citizenship_status": "lawful_permanent_resident", "entry": "inspected"}

# factor -> overrides that make it (and, from the base case, only it) apply
POSITIVE: dict[str, dict] = {
    "veteran_or_armed_forces": {"flags": {"veteran_or_armed_forces": True}},
    "armed_forces_family": {"flags": {"armed_forces_family": True}},
    "long_time_lpr": {
        "person": {**LPR, "lpr_since": "2001-10-03", "final_order_of_removal_on": "2011-01-01"}
    },
    "minor": {"person": {"birth_date": "1995-01-01", "entered_us_on": "2011-01-01"}},
    "elderly": {"person": {"birth_date": "1946-10-03"}},
    "present_since_childhood": {
        "person": {"birth_date": "1990-01-01", "entered_us_on": "2005-12-31"}
    },
    "us_citizen_or_lpr_family": {"flags": {"us_citizen_or_lpr_family": True}},
    "primary_caretaker": {"flags": {"primary_caretaker": True}},
    "pregnant_or_nursing": {"flags": {"pregnant_or_nursing": True}},
    "serious_health_condition": {"flags": {"serious_health_condition": True}},
    "in_school_or_graduate": {"flags": {"in_school_or_graduate": True}},
    "victim_witness_or_plaintiff": {"flags": {"civil_rights_plaintiff": True}},
    "indigent_uncounseled_plea": {
        "flags": {"indigent": True},
        "convictions": [cv("5311", "infraction", counsel="none")],
    },
    "minor_traffic_arrest": {"arrest": {"charges": [ch("5499", "SPEEDING")]}},
}

NEGATIVE: dict[str, dict] = {
    "national_security": {"flags": {"national_security": True}},
    "serious_felon": {"convictions": [cv("0901", "felony")]},
    "repeat_offender": {
        "convictions": [
            cv("5311", "infraction", incident_id="a"),
            cv("5311", "infraction", incident_id="b"),
        ]
    },
    "gang_member": {"flags": {"gang_member": True}},
    "egregious_immigration_violator": {"person": {"immigration_fraud": True}},
    "juvenile_adjudication": {
        "convictions": [cv("2303", "misdemeanor", juvenile_adjudication=True)]
    },
}


def test_every_factor_rule_has_a_scenario() -> None:
    ids = {r.id for r in discretion.RULES}
    assert ids == {f"discretion.positive.{k}" for k in POSITIVE} | {
        f"discretion.negative.{k}" for k in NEGATIVE
    }
    for rule in discretion.RULES:
        assert rule.kind == "factor"
        assert rule.polarity == rule.id.split(".")[1]


@pytest.mark.parametrize("pack", PACKS)
@pytest.mark.parametrize("factor", sorted(POSITIVE))
def test_positive_factor(decide, expect, pack, factor) -> None:
    d = decide(pack, **POSITIVE[factor])
    expect(d, has_positive=(factor,), rules=(f"discretion.positive.{factor}",))
    if factor not in ("victim_witness_or_plaintiff",):
        expect(d, positive=(factor,))


@pytest.mark.parametrize("pack", PACKS)
@pytest.mark.parametrize("factor", sorted(NEGATIVE))
def test_negative_factor(decide, expect, pack, factor) -> None:
    d = decide(pack, **NEGATIVE[factor])
    expect(d, negative=(factor,), rules=(f"discretion.negative.{factor}",))


def test_base_case_has_no_factors(decide, expect) -> None:
    for pack in PACKS:
        expect(decide(pack), positive=(), negative=())


@pytest.mark.parametrize("pack", PACKS)
def test_factors_never_decide(decide, pack) -> None:
    """Every positive factor at once changes nothing but the list (3.7)."""
    flags = {
        "veteran_or_armed_forces": True,
        "armed_forces_family": True,
        "us_citizen_or_lpr_family": True,
        "primary_caretaker": True,
        "pregnant_or_nursing": True,
        "serious_health_condition": True,
        "in_school_or_graduate": True,
        "indigent": True,
    }
    plain = decide(pack, convictions=[cv("2399", "felony")])
    rich = decide(
        pack,
        convictions=[cv("2399", "felony", counsel="none")],
        flags=flags,
        person={"birth_date": "1945-01-01", "entered_us_on": "1950-01-01"},
    )
    assert rich.action == plain.action
    assert rich.priority == plain.priority and rich.level == plain.level
    assert len(rich.discretion_factors.positive) >= 10


# --------------------------------------------------------------------------- boundaries


@pytest.mark.parametrize(
    ("lpr_since", "long_time"),
    [("2001-10-03", True), ("2001-10-04", False), ("1990-01-01", True)],
)
def test_long_time_lpr_ten_years(decide, expect, lpr_since, long_time) -> None:
    d = decide("morton-2011", person={**LPR, "lpr_since": lpr_since})
    assert ("long_time_lpr" in d.discretion_factors.positive) is long_time


def test_long_time_lpr_needs_lpr_status(decide) -> None:
    """lpr_since on someone whose status is no longer LPR (e.g. naturalized) is not the factor."""
    d = decide(
        "morton-2011",
        person={
            "citizenship_status": "visa_overstay",
            "entry": "inspected",
            "lpr_since": "1990-01-01",
        },
    )
    assert "long_time_lpr" not in d.discretion_factors.positive


@pytest.mark.parametrize(
    ("birth_date", "decided_at", "minor"),
    [
        ("1993-10-04", "2011-10-03T10:00:00-06:00", True),  # 17, birthday tomorrow
        ("1993-10-03", "2011-10-03T10:00:00-06:00", False),  # 18 today
        # leap-day birthday, 18th birthday in a common year: 18 on March 1
        ("2000-02-29", "2018-02-28T10:00:00-07:00", True),
        ("2000-02-29", "2018-03-01T10:00:00-07:00", False),
    ],
)
def test_minor_under_18_across_leap_day(decide, birth_date, decided_at, minor) -> None:
    d = decide(
        "tfsc-2011",
        decided_at=decided_at,
        person={"birth_date": birth_date, "entered_us_on": "2011-01-01"},
    )
    assert ("minor" in d.discretion_factors.positive) is minor


@pytest.mark.parametrize(
    ("birth_date", "decided_at", "elderly"),
    [
        ("1946-10-03", "2011-10-03T10:00:00-06:00", True),
        ("1946-10-04", "2011-10-03T10:00:00-06:00", False),
        ("1948-02-29", "2013-02-28T10:00:00-07:00", False),  # 64 until March 1, 2013
        ("1948-02-29", "2013-03-01T10:00:00-07:00", True),
    ],
)
def test_elderly_65_across_leap_day(decide, birth_date, decided_at, elderly) -> None:
    d = decide("morton-2011", decided_at=decided_at, person={"birth_date": birth_date})
    assert ("elderly" in d.discretion_factors.positive) is elderly


@pytest.mark.parametrize(
    ("birth_date", "entered_us_on", "childhood"),
    [
        ("1990-01-01", "1990-06-01", True),  # infancy
        ("1990-01-01", "2005-12-31", True),  # 15
        ("1990-01-01", "2006-01-01", False),  # 16
        ("1992-02-29", "2008-02-28", True),  # 15 on the day before the leap-day birthday
        ("1992-02-29", "2008-02-29", False),
        (None, "1990-06-01", False),  # age at entry unknown
    ],
)
def test_present_since_childhood_entered_before_16(
    decide, birth_date, entered_us_on, childhood
) -> None:
    d = decide("morton-2011", person={"birth_date": birth_date, "entered_us_on": entered_us_on})
    assert ("present_since_childhood" in d.discretion_factors.positive) is childhood


def test_no_birth_date_no_age_factors(decide, expect) -> None:
    d = decide("morton-2011", person={"birth_date": None})
    expect(d, positive=())


@pytest.mark.parametrize(
    ("indigent", "counsel", "listed"),
    [(True, "none", True), (True, "appointed", False), (False, "none", False), (True, None, False)],
)
def test_indigent_uncounseled_plea(decide, indigent, counsel, listed) -> None:
    d = decide(
        "tfsc-2011",
        flags={"indigent": indigent},
        convictions=[cv("2399", counsel=counsel)],
    )
    assert ("indigent_uncounseled_plea" in d.discretion_factors.positive) is listed


@pytest.mark.parametrize(
    ("arrest_charges", "listed"),
    [
        ([ch("5499", "SPEEDING")], True),
        ([ch("5499", "SPEEDING"), ch("7399", "SEAT BELT")], True),
        ([ch("5499", "SPEEDING"), ch("7399", "LOITERING")], False),
        ([ch("5404", "DUI")], False),
        ([], False),
    ],
)
def test_minor_traffic_arrest(decide, arrest_charges, listed) -> None:
    d = decide("morton-2011", arrest={"charges": arrest_charges})
    assert ("minor_traffic_arrest" in d.discretion_factors.positive) is listed


@pytest.mark.parametrize(
    ("convictions", "listed"),
    [
        ([cv("2399", incident_id="a"), cv("2399", incident_id="b")], True),
        ([cv("2399", incident_id="a"), cv("2399", incident_id="a")], False),
        ([cv("2399")], False),
        ([cv("2399"), cv("2399")], True),  # unattributed: separate incidents
    ],
)
def test_repeat_offender(decide, convictions, listed) -> None:
    d = decide("morton-2011", convictions=convictions)
    assert ("repeat_offender" in d.discretion_factors.negative) is listed


def test_repeat_offender_counts_the_current_arrest(decide) -> None:
    d = decide(
        "tfsc-2011",
        convictions=[cv("2399", incident_id="old")],
        arrest={"charges": [ch("7399", "LOITERING", disposition="convicted")]},
    )
    assert "repeat_offender" in d.discretion_factors.negative


@pytest.mark.parametrize(
    ("overrides", "listed"),
    [
        ({"flags": {"gang_member": True}}, True),
        ({"convictions": [cv("5311", gang_element=True)]}, True),
        ({}, False),
    ],
)
def test_gang_member(decide, overrides, listed) -> None:
    d = decide("pep-2014", **overrides)
    assert ("gang_member" in d.discretion_factors.negative) is listed


@pytest.mark.parametrize(
    ("person", "listed"),
    [
        ({"immigration_fraud": True}, True),
        ({"removed_on": ["2003-01-01", "2006-01-01"]}, True),  # repeat re-entry
        ({"removed_on": ["2003-01-01"]}, False),
    ],
)
def test_egregious_immigration_violator(decide, person, listed) -> None:
    d = decide("morton-2011", person=person)
    assert ("egregious_immigration_violator" in d.discretion_factors.negative) is listed


def test_serious_felon_is_level_1(decide) -> None:
    assert (
        "serious_felon"
        not in decide("morton-2011", convictions=[cv("2399", "felony")]).discretion_factors.negative
    )
    assert (
        "serious_felon"
        in decide(
            "morton-2011", convictions=[cv("2399", "felony"), cv("2202", "felony")]
        ).discretion_factors.negative
    )


def test_factor_reasons_are_cited(decide) -> None:
    d = decide("tfsc-2011", **POSITIVE["indigent_uncounseled_plea"])
    reason = next(r for r in d.reasons if r.rule == "discretion.positive.indigent_uncounseled_plea")
    assert "II rec. 2" in reason.citation
    # v2: "particular discretion ... minor traffic offenses" is the March 2, 2011 memo (II.2)
    d = decide("morton-2011", **POSITIVE["minor_traffic_arrest"])
    reason = next(r for r in d.reasons if r.rule == "discretion.positive.minor_traffic_arrest")
    assert "March 2, 2011" in reason.citation and "II.2" in reason.citation
    assert "June 17" not in reason.citation
    # v2: the general factors cite the prosecutorial-discretion memo, the victim/witness/plaintiff
    # factor the victims memo (two different documents of June 17, 2011; report fn. 19)
    d = decide("morton-2011", **POSITIVE["veteran_or_armed_forces"])
    reason = next(r for r in d.reasons if r.rule == "discretion.positive.veteran_or_armed_forces")
    assert "Exercising Prosecutorial Discretion" in reason.citation and "II.2" in reason.citation
    d = decide("morton-2011", **POSITIVE["victim_witness_or_plaintiff"])
    reason = next(
        r for r in d.reasons if r.rule == "discretion.positive.victim_witness_or_plaintiff"
    )
    assert "Certain Victims, Witnesses, and Plaintiffs" in reason.citation
    assert "IV.2" in reason.citation


def test_juvenile_adjudication_is_listed_never_counted(decide, expect) -> None:
    """Matter of Devison: a juvenile adjudication is not a conviction; it may be listed."""
    d = decide("tfsc-2011", convictions=[cv("0901", "felony", juvenile_adjudication=True)])
    expect(d, level=None, priority=None, has_negative=("juvenile_adjudication",),
           not_rules=("discretion.negative.serious_felon",))  # fmt: skip
    reason = next(r for r in d.reasons if r.rule == "discretion.negative.juvenile_adjudication")
    assert "Devison" in reason.citation
