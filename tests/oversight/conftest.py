"""Oversight test fixtures: every store-backed test runs on SQLite and PostgreSQL (the shared
``db`` fixture of ``tests/db_backends.py``); ``store_world`` seeds the small world of
``oversight_world.py`` into it."""

from __future__ import annotations

import pytest
from oversight_world import StoreWorld, build, register_users

from db_backends import Backend


@pytest.fixture
def store_world(db: Backend) -> tuple[Backend, StoreWorld]:
    with db.session() as session, session.begin():
        world = build(session)
    return db, world


@pytest.fixture
def users_world(store_world):
    db, world = store_world
    register_users(db)
    return db, world
