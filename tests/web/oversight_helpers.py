"""Oversight fixtures on the web tests' demo store (imported by name): two complaints (one
with a complainant's identity) and a recorded panel draw of the demo's decided cases."""

from __future__ import annotations

import datetime as dt

COMPLAINANT_NAME = "Rosa Q. Complainant"
COMPLAINANT_CONTACT = "rosa.complainant@example.org"


def _quarter(t: dt.datetime) -> str:
    return f"{t.year}-Q{(t.month - 1) // 3 + 1}"


def oversight_fixtures(site) -> dict[str, str]:
    """Path values for the oversight routes, created once per site (the store is shared by the
    module's tests: what they add is theirs)."""
    cached = getattr(site, "_oversight", None)
    if cached is not None:
        return cached
    from sqlalchemy import select

    from securecomm.oversight import complaints, panel
    from securecomm.store.models import Complaint

    svc = site.app.state.service
    with svc.session() as s:
        receipt = complaints.file_public(
            s, category="held_past_detainer_limit", language="es",
            narrative="Me retuvieron tres días después de mi fecha de salida.",
            name=COMPLAINANT_NAME, contact=COMPLAINANT_CONTACT,
            links=[("jurisdiction", site.demo.ori)],
        )  # fmt: skip
        own = s.scalar(select(Complaint.id).where(Complaint.receipt_code == receipt))
        other = complaints.file_complaint(
            s,
            channel="phone",
            category="language_access",
            narrative="No interpreter at booking.",
            anonymous=True,
            actor="crcl.demo",
        ).id
        # one filed three weeks ago and never acknowledged: the worker's sweep flags its breach
        complaints.file_complaint(
            s, channel="email", category="us_citizen_held", narrative="Citizen held overnight.",
            anonymous=True, actor="crcl.demo", at=site.now - dt.timedelta(days=21),
        )  # fmt: skip
        complaints.flag_breaches(s, site.now)
    draw_id, pseudonym = None, None
    for when in (site.now, site.now + dt.timedelta(days=1)):
        with svc.session() as s:
            frame = panel.build_frame(s, _quarter(when))
            if not frame.rows:
                continue
            panel.publish_frame(s, frame, actor="panel.demo")
        doc = panel.draw(frame.csv_bytes, seed="web-test-dice-31415", size=min(5, len(frame.rows)))
        with svc.session() as s:
            d = panel.record_draw(s, frame.csv_bytes, doc, actor="panel.demo")
            draw_id = d.id
            pseudonym = panel.findings_report(s, d.id).rows[0]["pseudonym"]
        break
    assert draw_id is not None, "the demo store has no decided case to sample"
    site._oversight = {
        "receipt": receipt, "complaint_id": str(own), "other_complaint_id": str(other),
        "draw_id": str(draw_id), "pseudonym": pseudonym,
    }  # fmt: skip
    return site._oversight
