"""Fixtures of the synthetic-nation tests: one small nation and its outcomes per run."""

from __future__ import annotations

import pytest
from synth_helpers import SMALL_SPEC

from securecomm.synth.nation import generate_nation
from securecomm.synth.outcomes import nation_outcomes
from securecomm.synth.params import load_params


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
