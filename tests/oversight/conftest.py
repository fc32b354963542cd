"""Oversight test fixtures: every store-backed test runs on SQLite and PostgreSQL (the shared
``db`` fixture of ``tests/db_backends.py``); ``store_world`` seeds the small world of
``oversight_world.py`` into it."""

from __future__ import annotations

import pytest
from oversight_world import StoreWorld, build

from db_backends import Backend


@pytest.fixture
def store_world(db: Backend) -> tuple[Backend, StoreWorld]:
    with db.session() as session, session.begin():
        world = build(session)
    return db, world
