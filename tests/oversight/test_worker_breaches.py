"""The worker flags overdue complaints within one cycle (IV rec. 4)."""

from __future__ import annotations

import datetime as dt

from securecomm.interop.worker import _flag_complaint_breaches
from securecomm.oversight import complaints as cm


def test_worker_cycle_flags_a_breach_once(db):
    at = dt.datetime(2012, 8, 31, 20, 0, tzinfo=dt.UTC)
    with db.session() as s, s.begin():
        cid = cm.file_complaint(s, channel="paper", category="other", narrative="letter",
                                actor="crcl-1", at=at).id  # fmt: skip
    later = dt.datetime(2012, 9, 20, tzinfo=dt.UTC)
    with db.session() as s:
        assert cm.breaches_pending(s, later) == 1
    _flag_complaint_breaches(db.engine, later)
    _flag_complaint_breaches(db.engine, later + dt.timedelta(minutes=1))
    with db.session() as s:
        assert cm.breaches_pending(s, later) == 0
    with db.session() as s:
        assert [b["complaint_id"] for b in cm.breaches(s)] == [cid]
