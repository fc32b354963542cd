"""Fixtures of the synthetic-nation tests: one small nation and its outcomes per run."""

from __future__ import annotations

import datetime as dt

import pytest

from securecomm.synth.nation import NationSpec, generate_nation
from securecomm.synth.outcomes import nation_outcomes
from securecomm.synth.params import load_params

# one fiscal year at 0.1% of the national flow: a few thousand bookings, fast
SMALL_SPEC = NationSpec(seed=11, sample_fraction=0.001, start=dt.date(2010, 10, 1),
                        end=dt.date(2011, 9, 30), scale="custom")  # fmt: skip


@pytest.fixture(scope="session")
def nation_params():
    return load_params()


@pytest.fixture(scope="session")
def small_nation(nation_params):
    return generate_nation(SMALL_SPEC, params=nation_params)


@pytest.fixture(scope="session")
def small_outcomes(small_nation, nation_params, tmp_path_factory):
    """{pack: path} of booking outcomes (with the simulation's extra columns) and the dir."""
    out = tmp_path_factory.mktemp("outcomes")
    paths = nation_outcomes(small_nation, ["morton-2011", "tfsc-2011"], out, seed=5,
                            params=nation_params)  # fmt: skip
    return paths, out
