"""Revision 0002 on a database that already holds submissions from 0001."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from securecomm.store.db import make_engine, upgrade

T = dt.datetime(2011, 10, 3, 16, 0, tzinfo=dt.UTC)


def test_upgrade_from_0001_keeps_rows_and_sets_their_stage(fresh_url):
    url = fresh_url()
    assert upgrade(url, "0001") == "0001"
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO jurisdictions (ori, state, timezone, disclosure, honors_detainers, "
                    "programs_active, created_at, updated_at) VALUES ('CO0010000', 'CO', "
                    "'America/Denver', 'full', true, '[]', :t, :t)"
                ),
                {"t": T},
            )
            for tcn, state in (("A", "received"), ("B", "completed"), ("C", "failed")):
                conn.execute(
                    text(
                        "INSERT INTO submissions (tcn, ori, payload, payload_sha256, received_at, "
                        "state, state_changed_at) VALUES (:tcn, 'CO0010000', '{}', :h, :t, :s, :t)"
                    ),
                    {"tcn": tcn, "h": "0" * 64, "t": T, "s": state},
                )
        assert upgrade(engine=engine, revision="0002") == "0002"
        with engine.connect() as conn:
            rows = dict(conn.execute(text("SELECT tcn, stage FROM submissions")).all())
        assert rows == {"A": "criminal_history", "B": "done", "C": "criminal_history"}
        with engine.begin() as conn:  # the CHECK holds
            try:
                conn.execute(text("UPDATE submissions SET stage = 'nowhere' WHERE tcn = 'A'"))
            except Exception:
                pass
            else:
                raise AssertionError("an unknown stage was accepted")
    finally:
        engine.dispose()
