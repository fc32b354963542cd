"""Revision 0003 on a database that already holds detainers, events and notices from 0002:
policy columns filled from the ``issued`` events, one detainer per (case, kind) enforced, the
new event types and notice kinds accepted, and the downgrade back to 0002."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from securecomm.store.db import alembic_config, current_revision, make_engine, upgrade

T = dt.datetime(2011, 10, 3, 16, 0, tzinfo=dt.UTC)


def _seed_0002(conn) -> None:
    conn.execute(
        text(
            "INSERT INTO jurisdictions (ori, state, timezone, disclosure, honors_detainers, "
            "programs_active, created_at, updated_at) VALUES ('CO0010000', 'CO', "
            "'America/Denver', 'full', true, '[]', :t, :t)"
        ),
        {"t": T},
    )
    for cid in ("C-1", "C-2"):
        conn.execute(
            text(
                "INSERT INTO cases (case_id, ori, program, state, case_json, case_sha256, "
                "opened_at, updated_at) VALUES (:c, 'CO0010000', 'secure_communities', 'acted', "
                "'{}', :h, :t, :t)"
            ),
            {"c": cid, "h": "0" * 64, "t": T},
        )
    for cid, details in (
        ("C-1", '{"policy": "tfsc-2011", "policy_ref": "tfsc-2011", "policy_version": "1.2"}'),
        ("C-2", '{"kind": "detainer"}'),  # lodged by a caller that recorded no policy
    ):
        conn.execute(
            text(
                "INSERT INTO detainers (case_id, ori, kind, state, issued_at, updated_at) "
                "VALUES (:c, 'CO0010000', 'detainer', 'active', :t, :t)"
            ),
            {"c": cid, "t": T},
        )
        did = conn.scalar(text("SELECT id FROM detainers WHERE case_id = :c"), {"c": cid})
        conn.execute(
            text(
                "INSERT INTO detainer_events (detainer_id, event_type, occurred_at, recorded_at, "
                "actor, details) VALUES (:d, 'issued', :t, :t, 'ice', :details)"
            ),
            {"d": did, "t": T, "details": details},
        )
    conn.execute(
        text(
            "INSERT INTO notices (ori, case_id, detainer_id, kind, idempotency_key, content, "
            "created_at) SELECT 'CO0010000', 'C-1', id, 'detainer_issued', 'k-1', '{}', :t "
            "FROM detainers WHERE case_id = 'C-1'"
        ),
        {"t": T},
    )


def _rejects(engine, sql: str, **params) -> bool:
    try:
        with engine.begin() as conn:
            conn.execute(text(sql), {"t": T, **params})
    except IntegrityError:
        return True
    return False


def test_upgrade_fills_policy_enforces_uniqueness_and_accepts_the_new_values(fresh_url):
    url = fresh_url()
    assert upgrade(url, "0002") == "0002"
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            _seed_0002(conn)
        assert upgrade(engine=engine, revision="0003") == "0003"
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT case_id, policy, policy_version FROM detainers ORDER BY case_id")
            ).all()
            assert [tuple(r) for r in rows] == [("C-1", "tfsc-2011", "1.2"), ("C-2", None, None)]
            # rows survive the CHECK rebuild (SQLite) with their keys
            assert conn.scalar(text("SELECT COUNT(*) FROM detainer_events")) == 2
            assert conn.scalar(text("SELECT idempotency_key FROM notices")) == "k-1"
        dup = (
            "INSERT INTO detainers (case_id, ori, kind, state, issued_at, updated_at) "
            "VALUES ('C-1', 'CO0010000', 'detainer', 'active', :t, :t)"
        )
        assert _rejects(engine, dup), "a second detainer of the same case and kind was stored"
        other_kind = dup.replace("'detainer', 'active'", "'notification_request', 'active'")
        assert not _rejects(engine, other_kind)
        for event in ("released", "held_past_expiry"):
            assert not _rejects(
                engine,
                "INSERT INTO detainer_events (detainer_id, event_type, occurred_at, "
                "recorded_at, actor, details) SELECT id, :e, :t, :t, 'lea', '{}' FROM detainers "
                "WHERE case_id = 'C-1' AND kind = 'detainer'",
                e=event,
            )
        assert _rejects(
            engine,
            "INSERT INTO detainer_events (detainer_id, event_type, occurred_at, recorded_at, "
            "actor, details) SELECT id, 'vanished', :t, :t, 'lea', '{}' FROM detainers "
            "WHERE case_id = 'C-2'",
        )
        for n, kind in enumerate(("detainer_activated", "detainer_expired")):
            assert not _rejects(
                engine,
                "INSERT INTO notices (ori, case_id, kind, idempotency_key, content, created_at) "
                "VALUES ('CO0010000', 'C-1', :k, :key, '{}', :t)",
                k=kind,
                key=f"new-{n}",
            )
        # the downgrade refuses while rows use values 0002 cannot hold ...
        with pytest.raises(RuntimeError, match="no encoding in 0002"):
            command.downgrade(alembic_config(engine), "0002")
        with engine.begin() as conn:
            conn.execute(
                text("DELETE FROM detainer_events WHERE event_type IN ('released', "
                     "'held_past_expiry')")
            )  # fmt: skip
            conn.execute(text("DELETE FROM notices WHERE idempotency_key LIKE 'new-%'"))
            conn.execute(text("DELETE FROM detainers WHERE kind = 'notification_request'"))
        # ... and then goes back: columns gone, the old CHECKs and duplicates allowed again
        command.downgrade(alembic_config(engine), "0002")
        assert current_revision(engine=engine) == "0002"
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT COUNT(*) FROM detainers")) == 2
            assert conn.scalar(text("SELECT COUNT(*) FROM detainer_events")) == 2
        assert not _rejects(engine, dup)
        assert _rejects(
            engine,
            "INSERT INTO detainer_events (detainer_id, event_type, occurred_at, recorded_at, "
            "actor, details) SELECT id, 'released', :t, :t, 'lea', '{}' FROM detainers "
            "WHERE case_id = 'C-2'",
        )
    finally:
        engine.dispose()


def test_upgrade_refuses_duplicate_detainers_naming_them(fresh_url):
    url = fresh_url()
    upgrade(url, "0002")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            _seed_0002(conn)
            conn.execute(
                text(
                    "INSERT INTO detainers (case_id, ori, kind, state, issued_at, updated_at) "
                    "VALUES ('C-1', 'CO0010000', 'detainer', 'lifted', :t, :t)"
                ),
                {"t": T},
            )
        with pytest.raises(RuntimeError, match="C-1/detainer"):
            upgrade(engine=engine)
    finally:
        engine.dispose()
