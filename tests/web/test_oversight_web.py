"""The oversight portals on the web service (issue 11 item 1; report IV rec. 4, 6): the public
complaint form and receipt status, the CRCL desk, the panel's review -- on SQLite and PostgreSQL
(the ``site`` fixture)."""

from __future__ import annotations

import json
import re

import pytest
from oversight_helpers import COMPLAINANT_CONTACT, COMPLAINANT_NAME, oversight_fixtures
from sqlalchemy import select
from web_helpers import csrf_of, login, token

from securecomm.store.models import AuditEntry
from securecomm.web.complaint_text import LANGUAGES, text

NOT_CRCL = ("police.demo", "officer.demo", "supervisor.demo", "panel.demo", "admin.demo")


def _crcl(site):
    c = site.client()
    login(c, "crcl.demo", site.password)
    return c


@pytest.mark.parametrize("lang", LANGUAGES)
def test_public_form_in_each_language_files_and_returns_a_receipt(site, lang):
    c = site.client()
    page = c.get(f"/complaint?lang={lang}")
    assert page.status_code == 200
    t = text(lang)
    assert t["submit"] in page.text and t["categories"]["us_citizen_held"] in page.text
    r = c.post("/complaint", data={"csrf_token": csrf_of(page.text), "language": lang,
                                   "category": "us_citizen_held", "narrative": f"held ({lang})"})  # fmt: skip
    assert r.status_code == 200, r.text[:300]
    code = re.search(r'id="receipt-code">([0-9A-Z-]+)<', r.text).group(1)
    status = c.get(f"/complaint/status?lang={lang}&receipt={code}")
    assert status.status_code == 200
    assert t["stages"]["received"] in status.text


def test_public_form_refuses_a_post_without_its_csrf_token(site):
    c = site.client()
    data = {"category": "other", "narrative": "x"}
    assert c.post("/complaint", data=data).status_code == 403  # no token, no cookie
    c.get("/complaint")  # the cookie is set ...
    assert c.post("/complaint", data={**data, "csrf_token": "forged"}).status_code == 403


def test_public_status_is_status_only(site):
    ov = oversight_fixtures(site)
    c = site.client()
    for r in (c.get(f"/complaint/status?receipt={ov['receipt']}"),
              c.get(f"/api/v1/complaint-status?receipt_code={ov['receipt']}")):  # fmt: skip
        assert r.status_code == 200
        for secret in (COMPLAINANT_NAME, COMPLAINANT_CONTACT, "Me retuvieron", "narrative",
                       "contact", site.demo.ori):  # fmt: skip
            assert secret not in r.text
    assert c.get("/api/v1/complaint-status?receipt_code=NOPE-NOPE-NOPE").status_code == 404
    assert c.get("/complaint/status?receipt=NOPE").status_code == 404


def test_public_api_files_a_complaint_and_refuses_bad_input_by_field(site):
    c = site.client()
    r = c.post("/api/v1/complaints", json={"category": "language_access", "language": "zh_Hans",
                                           "narrative": "没有翻译"})  # fmt: skip
    assert r.status_code == 201, r.text
    code = r.json()["receipt_code"]
    assert c.get(r.json()["status_url"]).json()["stage"] == "received"
    bad = c.post("/api/v1/complaints", json={"category": "other", "narrative": "x",
                                             "ori": "NOSUCHORI"})  # fmt: skip
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "links.jurisdiction"
    assert code not in bad.text


def test_only_crcl_sees_the_complainant(site):
    ov = oversight_fixtures(site)
    cid = ov["complaint_id"]
    crcl = _crcl(site)
    page = crcl.get(f"/complaints/{cid}")
    assert page.status_code == 200 and COMPLAINANT_NAME in page.text
    api = crcl.get(f"/api/v1/complaints/{cid}", headers=token(crcl, "crcl.demo", site.password))
    assert api.json()["complainant"]["name"] == COMPLAINANT_NAME
    for name in NOT_CRCL:
        c = site.client()
        login(c, name, site.password)
        for r in (c.get(f"/complaints/{cid}"), c.get("/complaints"),
                  c.get(f"/api/v1/complaints/{cid}", headers=token(c, name, site.password)),
                  c.get("/api/v1/complaints", headers=token(c, name, site.password))):  # fmt: skip
            assert r.status_code == 403, (name, r.status_code)
            assert COMPLAINANT_NAME not in r.text and COMPLAINANT_CONTACT not in r.text
    # the list (any role allowed to read it) carries no identity or narrative
    lst = crcl.get("/api/v1/complaints", headers=token(crcl, "crcl.demo", site.password))
    assert COMPLAINANT_NAME not in lst.text and "Me retuvieron" not in lst.text
    # every read of the complaint is audited (who, which operation)
    with site.app.state.service.session() as s:
        reads = s.scalars(select(AuditEntry).where(AuditEntry.event_type == "web.read")).all()
    ops = {(e.actor, json.loads(e.payload).get("operation")) for e in reads}
    assert ("crcl.demo", "page.complaint") in ops and ("crcl.demo", "complaint.read") in ops


def test_crcl_takes_a_complaint_from_intake_to_resolution(site):
    c = _crcl(site)
    form = c.get("/complaints/new")
    r = c.post("/complaints/new", data={
        "csrf_token": csrf_of(form.text), "channel": "paper", "category": "victim_or_witness_detained",
        "narrative": "A witness was booked and detained.", "name": "W. Itness",
        "link_kind": "jurisdiction", "link_ref": site.demo.ori,
    }, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text[:300]
    url = r.headers["location"]
    csrf = csrf_of(c.get(url).text)
    steps = [("advance", {"to": "acknowledged"}), ("assign", {"investigator": "crcl.demo"}),
             ("advance", {"to": "investigating"}),
             ("advance", {"to": "resolved", "outcome": "Policy reminder issued to the agency."})]  # fmt: skip
    for action, data in steps:
        r = c.post(f"{url}/{action}", data={"csrf_token": csrf, **data}, follow_redirects=False)
        assert r.status_code == 303, (action, r.text[:300])
    page = c.get(url).text
    assert 'id="stage">resolved<' in page and "Policy reminder issued" in page
    # a refused transition names the field and is not a server error
    bad = c.post(f"{url}/advance", data={"csrf_token": csrf, "to": "investigating"})
    assert bad.status_code == 422 and "cannot move" in bad.text
    # and no CSRF token, no change
    assert c.post(f"{url}/advance", data={"to": "closed", "outcome": "x"}).status_code == 403


def test_api_advance_and_list_overdue(site):
    ov = oversight_fixtures(site)
    c = site.client()
    h = token(c, "crcl.demo", site.password)
    cid = ov["other_complaint_id"]
    r = c.post(f"/api/v1/complaints/{cid}/advance", json={"to": "resolved", "outcome": "x"},
               headers=h)  # fmt: skip
    assert r.status_code == 422 and r.json()["error"]["field"] == "to"
    listed = c.get("/api/v1/complaints?overdue=true", headers=h)
    assert listed.status_code == 200 and listed.json()["complaints"]
    assert all(x["overdue"] for x in listed.json()["complaints"])
    # the portal flags it: a red row and the worker's recorded breach
    login(c, "crcl.demo", site.password)
    page = c.get("/complaints").text
    assert 'class="overdue"' in page and "No breach recorded" not in page
    assert "complaint_overdue" not in page  # alerts page, not the list
    alerts = c.get("/oversight/alerts").text
    assert "is overdue in stage received" in alerts


def test_panel_sees_deidentified_cases_and_records_a_finding(site):
    ov = oversight_fixtures(site)
    c = site.client()
    login(c, "panel.demo", site.password)
    draws = c.get("/panel")
    assert draws.status_code == 200 and f"/panel/draws/{ov['draw_id']}" in draws.text
    case_url = f"/panel/draws/{ov['draw_id']}/cases/{ov['pseudonym']}"
    page = c.get(case_url)
    assert page.status_code == 200
    with site.app.state.service.session() as s:
        from securecomm.store.models import PanelSampleCase

        case_id = s.scalar(select(PanelSampleCase.case_id).where(
            PanelSampleCase.pseudonym == ov["pseudonym"]))  # fmt: skip
    assert case_id not in page.text and site.demo.ori not in page.text
    items = re.findall(r'name="answer\.(\w+)"', page.text)
    assert set(items) >= {"priority", "rule_followed", "hold_within_limit"}
    data = {"csrf_token": csrf_of(page.text), "finding": "unable_to_determine", "note": "web test"}
    data.update({f"answer.{i}": "n/a" for i in items})
    r = c.post(f"{case_url}/finding", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text[:300]
    after = c.get(f"/panel/draws/{ov['draw_id']}").text
    assert "unable to determine" in after and "panel.demo" in after
    # a contradictory finding is refused by the panel service, by field
    data.update({"finding": "adherent", "answer.priority": "no"})
    bad = c.post(f"{case_url}/finding", data=data)
    assert bad.status_code == 422 and "finding" in bad.text
