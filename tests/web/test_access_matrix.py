"""The access matrix, GENERATED from the app's route table (issue 10 item 6): every operation x
every role (and the anonymous public) x own and other jurisdiction.

* every route has an ``operation_id`` that the casbin policy lists (a new route without an
  entry fails ``test_every_route_is_in_the_policy``);
* a role the policy does not allow is refused (401 without login, 403 with);
* an allowed role reaches its own jurisdiction's records, and gets 404 / 403 for another's
  (0 cross-jurisdiction reads or writes): scoped roles only -- oversight sees everything;
* every list a scoped role reads holds only its own jurisdictions' rows;
* without login: no personal data (only ``public`` operations answer).

Write operations are sent with bodies that pass authorization and scoping but are refused by
the domain (wrong state, bad time), so the matrix changes nothing it then reads.
"""

from __future__ import annotations

import json
import re

import pytest
from fastapi.routing import APIRoute
from oversight_helpers import oversight_fixtures
from sqlalchemy import select
from web_helpers import csrf_of, login, token

from securecomm.store.models import CaseRecord, Detainer, Jurisdiction, Submission
from securecomm.web.app import route_table
from securecomm.web.auth import enforcer

ROLES = ("lea", "lea_system", "ice_officer", "ice_supervisor", "crcl", "panel", "admin")
USER_OF_ROLE = {
    "lea": "police.demo", "lea_system": "booking.system", "ice_officer": "officer.demo",
    "ice_supervisor": "supervisor.demo", "crcl": "crcl.demo", "panel": "panel.demo",
    "admin": "admin.demo",
}  # fmt: skip
SCOPED = {"lea", "lea_system", "ice_officer", "ice_supervisor"}
REFUSED = {401, 403, 404}
#: FastAPI's own documentation routes (public, no data)
FRAMEWORK = {"/openapi.json", "/api/docs", "/docs/oauth2-redirect"}


def _routes(app):
    routes = route_table(app)
    assert all(isinstance(r, APIRoute) for r in routes)
    return routes


def test_every_route_is_in_the_policy(site):
    e = enforcer()
    listed = {rule[1] for rule in e.get_policy()}
    routes = _routes(site.app)
    assert len(routes) > 25
    missing = [(r.path, r.operation_id) for r in routes if r.operation_id not in listed]
    assert not missing, f"routes without an access policy entry: {missing}"
    ops = [r.operation_id for r in _routes(site.app) if r.path.startswith("/api/")]
    assert len(ops) == len(set(ops)), "an API operation id is used twice"


def _fixtures(site) -> dict[str, dict[str, str]]:
    """Path parameter values, per side (own = the demo agency and area; other = another)."""
    with site.app.state.service.session() as s:

        def first(model, col, ori):
            return s.scalar(select(col).where(model.ori == ori).order_by(col).limit(1))

        out = {}
        for side, ori in (("own", site.demo.ori), ("other", site.demo.other_ori)):
            out[side] = {
                "case_id": first(CaseRecord, CaseRecord.case_id, ori),
                "detainer_id": str(first(Detainer, Detainer.id, ori)),
                "tcn": first(Submission, Submission.tcn, ori),
                "charge_index": "0",
                "ori": ori,
            }
    ov = oversight_fixtures(site)  # complaints and a panel draw are not jurisdiction-scoped
    for side, cid in (("own", ov["complaint_id"]), ("other", ov["other_complaint_id"])):
        out[side].update(complaint_id=cid, draw_id=ov["draw_id"],
                         pseudonym=ov["pseudonym"])  # fmt: skip
    for side in out.values():
        assert all(v not in (None, "None") for v in side.values()), out
    return out


def _body(route: APIRoute, method: str, values: dict[str, str]) -> dict:
    """A request body that passes authorization and scoping and is then refused by the domain
    (or is harmless), so the matrix writes nothing."""
    op = route.operation_id
    if op == "booking.submit":
        doc = {"format": "booking/1", "tcn": "MATRIX-1", "ori": values["ori"]}
        return {
            "content": json.dumps(doc).encode(),
            "headers": {"content-type": "application/json"},
        }
    if op in ("case.decide",):
        return {"json": {"accept": False}}  # neither accept nor override: refused
    if op == "case.approve":
        return {"json": {"deny": True}}  # a denial without a reason: refused
    if op == "detainer.release_eligible":
        return {"json": {"at": "not a time"}}
    if op == "charge.disposition":
        return {"json": {"disposition": "convicted", "at": "not a time"}}
    if op == "auth.token":
        return {"data": {"username": "nobody", "password": "x"}}
    if op == "form.decide":
        return {"data": {"choice": "not-an-action"}}
    if op == "form.approve":
        return {"data": {"decision": "deny"}}
    if op == "form.release_eligible":
        return {"data": {"at": "not a time"}}
    if op == "form.disposition":
        return {"data": {"disposition": "convicted", "at": "not a time"}}
    if op == "form.booking":
        return {"data": {"booking": json.dumps({"format": "booking/1", "ori": values["ori"]})}}
    if op == "form.add_user":
        return {"data": {"name": "matrix.user", "role": "no-such-role", "password": "x" * 12}}
    if op == "form.disable_user":
        return {"data": {"name": "no.such.user"}}
    if op in ("auth.login",):
        return {"data": {"username": "nobody", "password": "x"}}
    # oversight (issue 11): each refused by the complaints / panel services
    if op in ("form.complaint", "form.complaint_intake"):
        return {"data": {"channel": "phone", "category": "no-such", "narrative": "x"}}
    if op == "form.complaint_advance":
        return {"data": {"to": "no-such"}}
    if op == "form.complaint_assign":
        return {"data": {"investigator": "no.such.user"}}
    if op == "form.complaint_link":
        return {"data": {"kind": "booking", "ref": "NO-SUCH-TCN"}}
    if op == "form.panel_finding":
        return {"data": {"finding": "no-such"}}
    if op == "complaint.file":
        return {"json": {"category": "no-such", "narrative": "x"}}
    if op == "complaint.advance":
        return {"json": {"to": "no-such"}}
    return {}


def _allowed_oris(site, role: str) -> set[str] | None:
    if role in ("lea", "lea_system"):
        return {site.demo.ori}
    if role in ("ice_officer", "ice_supervisor"):
        with site.app.state.service.session() as s:
            return {j.ori for j in s.scalars(select(Jurisdiction))
                    if j.county_fips and site.aor_of_county(j.county_fips) == site.demo.area}  # fmt: skip
    return None


def _client(site, role: str | None):
    c = site.client()
    headers: dict[str, str] = {}
    csrf = None
    if role is None:
        return c, headers, csrf
    name = USER_OF_ROLE[role]
    if role == "lea_system":
        headers = {"Authorization": f"Bearer {site.demo.api_key}"}
    else:
        headers = token(c, name, site.password)
        login(c, name, site.password)
        csrf = csrf_of(c.get("/").text)
    return c, headers, csrf


def _ori_values(payload) -> list[str]:
    text = repr(payload)
    return re.findall(r"'ori': '([A-Z0-9]+)'", text)


@pytest.mark.parametrize("role", [None, *ROLES])
def test_access_matrix(site, role):
    e = enforcer()
    values = _fixtures(site)
    c, headers, csrf = _client(site, role)
    allowed_oris = _allowed_oris(site, role) if role else set()
    problems = []
    checked = 0
    # logging out ends the session the rest of the matrix uses: last
    for route in sorted(_routes(site.app), key=lambda r: r.operation_id == "auth.logout"):
        if route.path in FRAMEWORK:
            continue
        op = route.operation_id
        params = re.findall(r"{(\w+)}", route.path)
        allowed = bool(e.enforce(role or "anonymous", op))
        sides = ("own", "other") if params else ("own",)
        for method in sorted(route.methods - {"HEAD"}):
            for side in sides:
                path = route.path
                for p in params:
                    if p not in values[side]:
                        problems.append(f"{route.path}: no fixture for path parameter {p!r}")
                        continue
                    path = path.replace("{" + p + "}", values[side][p])
                kw = _body(route, method, values[side])
                if route.path.startswith("/api/"):
                    kw.setdefault("headers", {}).update(headers)
                elif method == "POST" and csrf is not None:
                    kw.setdefault("data", {})["csrf_token"] = csrf
                r = c.request(method, path, follow_redirects=False, **kw)
                checked += 1
                where = f"{role or 'anonymous'} {method} {path} ({op}, {side})"
                if r.status_code >= 500:
                    problems.append(f"{where}: server error {r.status_code}")
                    continue
                if not allowed:
                    # the pages send a caller without a browser session to the login page
                    ok = r.status_code in REFUSED or (
                        csrf is None and not path.startswith("/api/") and r.status_code == 303
                        and r.headers["location"].startswith("/login"))  # fmt: skip
                    if not ok:
                        problems.append(f"{where}: not allowed, got {r.status_code}")
                    continue
                if side == "other" and role in SCOPED:
                    if r.status_code not in (403, 404):
                        problems.append(
                            f"{where}: another jurisdiction's record, got {r.status_code}"
                        )
                    continue
                if op in ("auth.token", "auth.login"):
                    continue  # wrong password on purpose
                if op == "form.complaint" and csrf is None:
                    continue  # the public form's own CSRF token: tests/web/test_oversight_web.py
                if r.status_code in REFUSED:
                    problems.append(f"{where}: allowed, got {r.status_code} {r.text[:200]}")
                    continue
                if allowed_oris is not None and r.headers.get("content-type", "").startswith(
                    "application/json"
                ):
                    foreign = set(_ori_values(r.json())) - allowed_oris
                    if foreign and not op.startswith("public."):
                        problems.append(f"{where}: rows of other jurisdictions {sorted(foreign)}")
    assert checked > 40
    assert not problems, "\n".join(problems)


def test_no_personal_data_without_login(site):
    """Every operation the public may call answers without a case, a booking or a person."""
    c = site.client()
    for path in ("/api/v1/public/statistics", "/api/v1/public/policy", "/api/v1/public/jurisdictions",
                 "/public", "/public?lang=es"):  # fmt: skip
        r = c.get(path)
        assert r.status_code == 200, path
        text = r.text
        for marker in ("case_id", "tcn", "biographics", "birth_date", "family_name"):
            assert marker not in text, (path, marker)
    e = enforcer()
    public_ops = {rule[1] for rule in e.get_policy() if rule[0] == "anonymous"}
    assert not public_ops & {"booking.list", "booking.read", "case.read", "case.worklist",
                             "detainer.list", "notice.list"}  # fmt: skip
