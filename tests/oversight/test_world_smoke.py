from __future__ import annotations


def test_world_has_what_the_monitors_need(store_world):
    _db, world = store_world
    assert len(world.case_ids) == 36
    assert world.overrides and world.safeguard_overrides and world.approved
    assert world.held_past and world.citizen_lifted
