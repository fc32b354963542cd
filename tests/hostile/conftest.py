"""Hostile-input fixtures: a tiny seeded world (jurisdictions, repositories) on each backend."""

from __future__ import annotations

import pytest

from securecomm.store.db import session_factory


@pytest.fixture(scope="session")
def tiny_world():
    from securecomm.interop.synthetic_world import WorldSpec, generate_world

    return generate_world(WorldSpec(persons=30, bookings=40, seed=11))


@pytest.fixture
def seeded(db, tiny_world):
    """The backend ``db`` holding the tiny world's jurisdictions and repositories."""
    from securecomm.interop.synthetic_world import seed_world

    with session_factory(db.engine)() as session, session.begin():
        seed_world(session, tiny_world)
    return db
