"""Criminal levels (DESIGN 3.3; Morton March 2, 2011) and the aggravated-felony findings that
feed Level 1 (DESIGN 3.1) — rules/levels.py."""

from __future__ import annotations

import pytest

from securecomm.law.parameters import INA
from securecomm.law.rules import levels

PACKS = ("morton-2011", "tfsc-2011", "tfsc-2011-strict", "pep-2014")
TF_AND_PEP = ("tfsc-2011", "tfsc-2011-strict", "pep-2014")


def cv(ncic: str, severity: str = "misdemeanor", **kw) -> dict:
    return {"ncic": ncic, "severity": severity, **kw}


def ch(ncic: str, literal: str = "", severity: str = "misdemeanor", **kw) -> dict:
    return {"ncic": ncic, "literal": literal, "severity": severity, **kw}


def misdemeanors(n: int, ncic: str = "2399") -> list[dict]:
    return [cv(ncic, incident_id=f"inc-{i}") for i in range(n)]


SPEEDING = cv("5499", literal="SPEEDING")

# paragraph -> a conviction derived as an aggravated felony under it
PARAGRAPH_CASES: dict[str, dict] = {
    "A": cv("0901", "felony"),  # murder
    "B": cv("3530", "felony"),  # cocaine - sell
    "C": cv("5217", "felony"),  # weapon trafficking
    "D": cv("6300", "felony"),  # money laundering
    "E": cv("2905", "felony"),  # damage property with explosive
    "F": cv("1315", "felony", sentence_days=365),  # aggravated assault, 1 year
    "G": cv("2399", "felony", sentence_days=365),  # larceny, 1 year
    "H": cv("1001", "felony"),  # kidnap for ransom
    "I": cv("6401", "felony"),  # child pornography
    "K": cv("4002", "felony"),  # pimping
    "N": cv("0303", "felony"),  # alien smuggling
    "R": cv("2589", "felony", sentence_days=365),  # forgery, 1 year
    "S": cv("5006", "felony", sentence_days=365),  # obstructing justice, 1 year
}

# rule id -> (convictions, expected level in morton-2011)
SCENARIOS: dict[str, tuple[list[dict], int]] = {
    "levels.level-1": ([cv("2399", "felony"), cv("2202", "felony")], 1),
    "levels.level-2": ([cv("2399", "felony")], 2),
    "levels.level-3": ([cv("5311")], 3),
    "levels.aggravated-felony.explicit": ([cv("2399", aggravated_felony=True)], 1),
    **{f"levels.aggravated-felony.{p}": ([c], 1) for p, c in PARAGRAPH_CASES.items()},
}


def test_every_level_rule_has_a_scenario() -> None:
    assert set(SCENARIOS) == {r.id for r in levels.RULES}


@pytest.mark.parametrize("pack", PACKS)
@pytest.mark.parametrize("rule_id", sorted(SCENARIOS))
def test_rule_fires_with_citation(decide, expect, pack, rule_id) -> None:
    convictions, level = SCENARIOS[rule_id]
    d = decide(pack, convictions=convictions)
    expect(d, level=level, rules=(rule_id, f"levels.level-{level}"))


@pytest.mark.parametrize("paragraph", sorted(PARAGRAPH_CASES))
def test_aggravated_felony_reason_cites_its_paragraph(decide, paragraph) -> None:
    d = decide("morton-2011", convictions=[PARAGRAPH_CASES[paragraph]])
    reason = next(r for r in d.reasons if r.rule == f"levels.aggravated-felony.{paragraph}")
    assert reason.citation == f"{INA}({paragraph})"
    assert d.level == 1
    assert "serious_felon" in d.discretion_factors.negative


# --------------------------------------------------------------------------- level boundaries


@pytest.mark.parametrize(
    ("convictions", "level"),
    [
        ([], None),
        ([cv("5311", "infraction")], None),  # an infraction is not a misdemeanor
        (misdemeanors(1), 3),
        (misdemeanors(2), 3),
        (misdemeanors(3), 2),
        (misdemeanors(7), 2),
        ([cv("2399", "felony")], 2),
        ([cv("2399", "felony"), *misdemeanors(5)], 2),
        ([cv("2399", "felony"), cv("2399", "felony")], 1),
        ([cv("2399", aggravated_felony=True)], 1),
        ([cv("2399", sentence_days=365)], 1),  # (G) theft with a one-year sentence
        ([cv("2399", sentence_days=364)], 3),
    ],
)
@pytest.mark.parametrize("pack", PACKS)
def test_levels(decide, expect, pack, convictions, level) -> None:
    d = decide(pack, convictions=convictions)
    expect(d, level=level)
    for n in (1, 2, 3):
        if n == level:
            expect(d, rules=(f"levels.level-{n}",))
        else:
            expect(d, not_rules=(f"levels.level-{n}",))


def test_three_misdemeanors_from_one_incident_are_level_2(decide, expect) -> None:
    """Morton's Level 2 counts misdemeanors, not incidents (unlike Johnson 2(a))."""
    d = decide("morton-2011", convictions=[cv("2399", incident_id="one")] * 3)
    expect(d, level=2)


def test_explicit_false_overrides_derivation(decide, expect) -> None:
    d = decide("morton-2011", convictions=[cv("0901", "felony", aggravated_felony=False)])
    expect(
        d,
        level=2,
        not_rules=("levels.aggravated-felony.A", "levels.aggravated-felony.F", "levels.level-1"),
    )


def test_pending_dismissed_and_acquitted_charges_do_not_count(decide, expect) -> None:
    d = decide(
        "morton-2011",
        arrest={
            "charges": [
                ch("2399", "THEFT", "felony"),
                ch("1313", "ASSAULT", "felony", disposition="dismissed"),
                ch("2202", "BURGLARY", "felony", disposition="acquitted"),
            ]
        },
    )
    expect(d, level=None)


@pytest.mark.parametrize("pack", PACKS)
def test_current_charge_convicted_counts_as_conviction(decide, expect, pack) -> None:
    d = decide(
        pack,
        arrest={"charges": [ch("2399", "THEFT", "felony", disposition="convicted")]},
        convictions=[cv("2202", "felony")],
    )
    expect(d, level=1, rules=("levels.level-1",))


# --------------------------------------------------------------------------- minor traffic count


def test_morton_counts_minor_traffic_misdemeanors(decide, expect) -> None:
    """levels.count_minor_traffic = true in morton-2011 (status-quo practice)."""
    expect(decide("morton-2011", convictions=[SPEEDING]), level=3, bases=("1(b)", "level-3"))
    three = [{**SPEEDING, "incident_id": f"i{i}"} for i in range(3)]
    expect(decide("morton-2011", convictions=three), level=2)


@pytest.mark.parametrize("pack", TF_AND_PEP)
def test_task_force_and_pep_do_not_count_minor_traffic(decide, expect, pack) -> None:
    """levels.count_minor_traffic = false (II rec. 1, III.1; Johnson 2(a))."""
    expect(decide(pack, convictions=[SPEEDING]), level=None, not_rules=("levels.level-3",))
    three = [{**SPEEDING, "incident_id": f"i{i}"} for i in range(3)]
    expect(decide(pack, convictions=three), level=None)
    mixed = [*misdemeanors(2), SPEEDING]
    expect(decide(pack, convictions=mixed), level=3)


def test_serious_traffic_misdemeanors_always_count(decide, expect) -> None:
    dui = [cv("5404", incident_id=f"i{i}") for i in range(3)]
    for pack in PACKS:
        expect(decide(pack, convictions=dui), level=2)


def test_morton_priority_lists_the_level(decide, expect) -> None:
    for convictions, level in (
        ([cv("0901", "felony")], 1),
        ([cv("2399", "felony")], 2),
        ([cv("2399")], 3),
    ):
        d = decide("morton-2011", convictions=convictions)
        expect(d, priority="1", bases=("1(b)", f"level-{level}"), level=level)
