"""Fixtures of the FOIA tests: the real releases (``../shared/data/real`` beside the checkout;
``SECURECOMM_FOIA_DATA`` overrides) and the imported tables. Tests that need the releases skip
cleanly when they are absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def find_real_data() -> Path | None:
    if env := os.environ.get("SECURECOMM_FOIA_DATA"):
        return Path(env) if Path(env).is_dir() else None
    # CI: ``shared`` beside the checkout; a worktree under wt/<name> has it two levels up
    for base in (REPO.parent, REPO.parent.parent):
        candidate = base / "shared" / "data" / "real"
        if candidate.is_dir():
            return candidate
    return None


@pytest.fixture(scope="session")
def real() -> Path:
    path = find_real_data()
    if path is None:
        pytest.skip("the real FOIA releases (../shared/data/real) are not present")
    return path


@pytest.fixture(scope="session")
def imported(real):
    from securecomm.foia.importer import import_all

    return import_all(real)


@pytest.fixture(scope="session")
def tables(imported):
    return imported.tables
