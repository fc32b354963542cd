"""The Task Force report's own cases and DESIGN's examples, as YAML scenarios
(tests/law/scenarios/*.yaml), run against every pack they name."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

SCENARIO_DIR = Path(__file__).resolve().parents[1] / "scenarios"
PACKS = {"morton-2011", "tfsc-2011", "tfsc-2011-strict", "pep-2014"}
EXPECT_KEYS = {
    "action", "removable", "priority", "bases", "level", "supervisor", "fields", "positive",
    "negative", "has_positive", "has_negative", "rules", "not_rules", "decisive", "outranked",
}  # fmt: skip


def _load() -> list[tuple[str, str, dict, dict]]:
    items = []
    for path in sorted(SCENARIO_DIR.glob("*.yaml")):
        for scenario in yaml.safe_load(path.read_text(encoding="utf-8")):
            assert set(scenario) == {"name", "source", "case", "expect"}, scenario
            for pack, expected in scenario["expect"].items():
                items.append(
                    (f"{path.stem}: {scenario['name']} [{pack}]", pack, scenario, expected)
                )
    return items


SCENARIOS = _load()


def test_scenario_files_are_well_formed() -> None:
    assert SCENARIOS
    names = [s[0] for s in SCENARIOS]
    assert len(names) == len(set(names))
    for _, pack, scenario, expected in SCENARIOS:
        assert pack in PACKS, pack
        assert set(expected) <= EXPECT_KEYS, set(expected) - EXPECT_KEYS
        assert scenario["source"].strip()


@pytest.mark.parametrize(
    ("pack", "scenario", "expected"),
    [s[1:] for s in SCENARIOS],
    ids=[s[0] for s in SCENARIOS],
)
def test_scenario(decide, expect, pack, scenario, expected) -> None:
    d = decide(pack, **scenario["case"])
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in expected.items()}
    expect(d, **kwargs)
