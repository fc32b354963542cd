"""Jurisdictions: every county, valid ORIs and zones, the real rollout milestones exactly."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from securecomm.law.schema import Jurisdiction
from securecomm.synth.jurisdictions import (
    BORDER_COUNTIES,
    activation_dates,
    counties,
    jurisdictions_table,
)

EPOCH = dt.date(1970, 1, 1)


def test_every_county_of_the_50_states_and_dc():
    rows = counties()
    assert len(rows) == 3143  # 2010 counties and equivalents, 50 states + DC
    assert len({r[0] for r in rows}) == 51
    assert len({r[1] for r in rows}) == len(rows)


@pytest.fixture(scope="module")
def jur(nation_params):
    return jurisdictions_table(nation_params, 0).to_pylist()


def test_oris_and_zones_are_valid(jur):
    oris = [j["ori"] for j in jur]
    assert len(set(oris)) == len(oris)
    for j in jur:
        Jurisdiction(ori=j["ori"], state=j["state"], county_fips=j["county_fips"],
                     timezone=j["timezone"], disclosure=j["disclosure"],
                     honors_detainers=j["honors_detainers"])  # fmt: skip
        assert j["ori"].startswith(j["state"])  # the Case v1 ORI prefix check
        assert j["ori"] == f"{j['state']}{j['county_fips'][2:]}0000"
        assert j["population"] > 0 and 0 < j["foreign_born_share"] < 1


def test_split_state_zones(jur):
    zone = {j["county_fips"]: j["timezone"] for j in jur}
    assert zone["48141"] == zone["48229"] == "America/Denver"  # El Paso, Hudspeth
    assert zone["48201"] == "America/Chicago"  # Harris
    assert zone["12033"] == "America/Chicago"  # Escambia (FL panhandle)
    assert zone["12086"] == "America/New_York"  # Miami-Dade
    assert {zone[f] for f in zone if f.startswith("04")} == {"America/Phoenix"}
    assert {zone[f] for f in zone if f.startswith("15")} == {"Pacific/Honolulu"}
    assert zone["02020"] == "America/Anchorage"
    assert zone["16055"] == "America/Los_Angeles"  # Kootenai, ID


@pytest.mark.parametrize("seed", [0, 1, 99])
def test_rollout_milestones_exact(nation_params, seed):
    days = [j["activated_on"] for j in jurisdictions_table(nation_params, seed).to_pylist()]

    def by(day):
        return sum(d <= day for d in days)

    assert sum(dt.date(2008, 10, 1) <= d <= dt.date(2008, 10, 31) for d in days) == 14
    assert min(days) == dt.date(2008, 10, 27)
    assert by(dt.date(2009, 9, 30)) == 88
    assert by(dt.date(2010, 9, 30)) == 658
    assert by(dt.date(2011, 9, 30)) == 1595
    assert by(dt.date(2013, 1, 22)) == len(days) == 3143
    assert max(days) == dt.date(2013, 1, 22)


def test_border_and_large_foreign_born_first(jur):
    early = [j for j in jur if j["activated_on"] <= dt.date(2009, 9, 30)]
    border_early = sum(j["county_fips"] in BORDER_COUNTIES for j in early)
    assert border_early / len(early) > 5 * len(BORDER_COUNTIES) / len(jur)
    fb_early = np.mean([j["foreign_born_share"] for j in early])
    assert fb_early > 2 * np.mean([j["foreign_born_share"] for j in jur])


def test_different_seed_different_synthetic_values(nation_params):
    a = jurisdictions_table(nation_params, 0)
    b = jurisdictions_table(nation_params, 1)
    assert a["ori"].equals(b["ori"])  # the counties are real
    assert not a["population"].equals(b["population"])


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 400),
    cuts=st.lists(st.integers(1, 400), min_size=1, max_size=5, unique=True),
    gaps=st.lists(st.integers(0, 400), min_size=6, max_size=6),
)
def test_activation_dates_hit_every_milestone(n, cuts, gaps):
    counts = sorted(c for c in cuts if c < n)
    first = dt.date(2008, 10, 27)
    dates, day = [], first
    for g in gaps[: len(counts) + 1]:
        dates.append(day + dt.timedelta(days=g))
        day = dates[-1] + dt.timedelta(days=1)
    milestones = [*zip(dates, counts, strict=False), (dates[len(counts)], None)]
    order = np.random.default_rng(n).permutation(n)
    out = activation_dates(order, milestones, first)
    got = [EPOCH + dt.timedelta(days=int(d)) for d in out]
    for on, count in milestones:
        assert sum(g <= on for g in got) == (n if count is None else count)
    assert min(got) >= first
    # activation follows the order
    assert all(out[order[i]] <= out[order[i + 1]] for i in range(n - 1))
