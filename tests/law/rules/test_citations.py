"""Every rule carries its source and a sentence; every parameter its citation, rationale and
effective date (DESIGN 3: "Interpretations are dated parameters with a citation and a one-line
rationale"; Catala: "every rule carries its legal heading")."""

from __future__ import annotations

import datetime as dt

import pytest

from securecomm.law.packs import PACKS
from securecomm.law.parameters import DEFAULTS

PACK_NAMES = ("morton-2011", "tfsc-2011", "tfsc-2011-strict", "pep-2014")


def test_the_four_packs() -> None:
    assert tuple(PACKS) == PACK_NAMES
    for name, pack in PACKS.items():
        assert pack.name == name
        assert pack.citation.strip() and pack.title.strip() and pack.description.strip()
        assert pack.policy_version == pack.version and pack.variant_digest is None
        assert pack.base is None


@pytest.mark.parametrize("pack", PACK_NAMES)
def test_every_rule_has_citation_and_text(pack) -> None:
    rules = PACKS[pack].rules
    assert rules
    ids = [r.id for r in rules]
    assert len(ids) == len(set(ids)), "rule ids are unique within a pack"
    for rule in rules:
        assert isinstance(rule.citation, str) and rule.citation.strip(), rule.id
        assert isinstance(rule.text, str) and rule.text.strip(), rule.id
        assert rule.id.strip() and rule.id == rule.id.strip()
        if rule.kind == "action":
            assert rule.outcome in (
                "no_action",
                "no_detainer",
                "conditional_detainer",
                "detainer",
                "notification_request",
            )
            assert isinstance(rule.rank, int)


@pytest.mark.parametrize("pack", PACK_NAMES)
def test_every_pack_has_exactly_one_base_rule_of_rank_0(pack) -> None:
    base = [r for r in PACKS[pack].rules if r.kind == "action" and r.rank == 0]
    assert len(base) == 1


def _check_parameter(name, p) -> None:
    assert p.name == name
    assert isinstance(p.citation, str) and p.citation.strip(), name
    assert isinstance(p.rationale, str) and p.rationale.strip(), name
    assert isinstance(p.effective, dt.date), name
    assert dt.date(1950, 1, 1) <= p.effective <= dt.date(2014, 12, 31), name
    assert p.kind in ("fact", "interpretation"), name


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_every_parameter_has_citation_rationale_effective_date(name) -> None:
    _check_parameter(name, DEFAULTS[name])


@pytest.mark.parametrize("pack", PACK_NAMES)
def test_pack_parameters_keep_citation_rationale_effective_date(pack) -> None:
    params = PACKS[pack].parameters
    assert set(params) == set(DEFAULTS)
    for name, p in params.items():
        _check_parameter(name, p)


def test_task_force_and_pep_packs_do_not_count_minor_traffic() -> None:
    assert PACKS["morton-2011"].parameters["levels.count_minor_traffic"].value is True
    for pack in ("tfsc-2011", "tfsc-2011-strict", "pep-2014"):
        p = PACKS[pack].parameters["levels.count_minor_traffic"]
        assert p.value is False
        assert p.citation != DEFAULTS["levels.count_minor_traffic"].citation


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("priorities.recent_entry_years", 3),
        ("priorities.gang_min_age", 16),
        ("discretion.long_time_lpr_years", 10),
        ("discretion.minor_age", 18),
        ("discretion.elderly_age", 65),
        ("discretion.childhood_entry_age", 16),
        ("offenses.significant_misdemeanor_sentence_days", 90),
        ("aggravated_felony.min_sentence_days", 365),
        ("pep.misdemeanor_incidents", 3),
        ("pep.continuous_presence_since", dt.date(2014, 1, 1)),
        ("detainer.hold_hours", 48),
        ("detainer.exclude_non_business_days", True),
        ("offenses.serious_traffic_ncic", ("0909", "5401", "5403", "5404")),
        ("offenses.dui_ncic", ("5403", "5404")),
        ("offenses.minor_traffic_ncic", ("5499",)),
    ],
)
def test_design_values(name, value) -> None:
    """The defaults DESIGN 3 states."""
    assert DEFAULTS[name].value == value
