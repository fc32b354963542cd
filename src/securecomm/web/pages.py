"""Server-rendered role portals (Jinja2 + htmx, issue 10 item 4). Every handler: authorize
(:meth:`Service.caller`), call a domain service or query, render. Every form that changes state
carries the session's CSRF token and is refused without it."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from ..interop import field_office, intake, lifecycle, queries
from ..interop.notices import LANGUAGES
from ..law.detainer_clock import DetainerClockError, parse_release_time
from ..law.schema import Action
from . import auth, public
from .api import CaseId, ChargeIndex, DetainerId
from .app import gate

router = APIRouter(include_in_schema=False, dependencies=[Depends(gate)])
templates = Jinja2Templates(directory=str(auth.HERE / "templates"))


def _when(value: str | None) -> str:
    """An ISO 8601 time with its offset as people read it: "Fri 20 Nov 2026 17:00 (-06:00)"."""
    if not value:
        return "—"
    try:
        t = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    return t.strftime("%a %d %b %Y %H:%M") + (
        f" ({t.strftime('%z')[:3]}:{t.strftime('%z')[3:]})" if t.tzinfo else ""
    )


templates.env.filters["when"] = _when

#: Where each role lands after logging in.
HOME_OF_ROLE = {
    "lea": "/detainers",
    "lea_system": "/",
    "ice_officer": "/worklist",
    "ice_supervisor": "/approvals",
    "crcl": "/complaints",
    "panel": "/panel",
    "admin": "/admin",
}

#: The newest notices a page shows (the API pages further with ``limit``).
NOTICES_PER_PAGE = 50

LANGUAGE_NAMES = {
    "en": "English", "es": "Español", "fr": "Français", "pt": "Português",
    "zh_Hans": "中文", "vi": "Tiếng Việt",
}  # fmt: skip


def _svc(request: Request):
    return request.app.state.service


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _nav(svc, caller) -> list[tuple[str, str]]:
    links = [("/public", "Public statistics"), ("/complaint", "File a complaint")]
    for op, href, label in (
        ("page.bookings", "/bookings", "Bookings"),
        ("page.detainers", "/detainers", "Detainer clocks"),
        ("page.notices", "/notices", "Notices"),
        ("page.worklist", "/worklist", "Worklist"),
        ("page.approvals", "/approvals", "Approvals"),
        ("page.admin", "/admin", "Users and jurisdictions"),
        ("page.complaints", "/complaints", "Complaints"),  # issue 11: oversight portals
        ("page.alerts", "/oversight/alerts", "Alerts"),
        ("page.panel_draws", "/panel", "Panel review"),
    ):
        if caller is not None and caller.principal is not None and svc.allowed(caller.role, op):
            links.append((href, label))
    return links


def render(request: Request, name: str, caller, status: int = 200, **context: Any) -> HTMLResponse:
    svc = _svc(request)
    response = templates.TemplateResponse(
        request,
        name,
        {"caller": caller, "nav": _nav(svc, caller), "csrf_field": auth.CSRF_FIELD, **context},
        status_code=status,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def error_page(request: Request, status: int, detail: Any) -> HTMLResponse:
    if isinstance(detail, dict):
        field, message = detail.get("field"), detail.get("message", "")
    else:
        field, message = None, str(detail)
    return render(request, "error.html", None, status=status, status_code=status, field=field,
                  message=message)  # fmt: skip


def _check(caller, token: str | None) -> None:
    auth.check_csrf(caller.session_data, token)


# --------------------------------------------------------------------------- home and login


@router.get("/", operation_id="page.home")
def home(request: Request):
    svc = _svc(request)
    with svc.read_session() as s:
        caller = svc.caller(request, s)
    return render(request, "home.html", caller)


@router.get("/login", operation_id="page.login")
def login_page(request: Request, next: str = "/"):
    svc = _svc(request)
    with svc.read_session() as s:
        caller = svc.caller(request, s)
    return render(request, "login.html", caller, next=_safe_next(next), error=None)


def _safe_next(target: str) -> str:
    # only a path on this site: never an open redirect
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.post("/login", operation_id="auth.login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form(max_length=300)] = "/",
):
    svc = _svc(request)
    caller = request.state.caller
    keys = auth.login_keys(request, username)
    svc.throttle.check(*keys)
    with svc.session() as s:
        principal = svc.users.authenticate_password(s, username, password)
    if principal is None:
        svc.throttle.failed(*keys)
        return render(request, "login.html", caller, status=401, next=_safe_next(next),
                      error="Wrong user name or password, or the user is disabled.")  # fmt: skip
    svc.throttle.succeeded(*keys)
    cookie, _ = svc.signer.session_cookie(principal.name)
    target = _safe_next(next)
    if target in ("/", "/login"):
        target = HOME_OF_ROLE.get(principal.role, "/")
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        auth.SESSION_COOKIE, cookie, max_age=svc.settings.session_seconds, httponly=True,
        secure=svc.settings.secure_cookies, samesite="strict", path="/",
    )  # fmt: skip
    return response


@router.post("/logout", operation_id="auth.logout")
def logout(request: Request, csrf_token: Annotated[str | None, Form()] = None):
    svc = _svc(request)
    with svc.read_session() as s:
        caller = svc.caller(request, s)
    if caller.principal is not None:
        _check(caller, csrf_token)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


# --------------------------------------------------------------------------- police / jail


@router.get("/bookings", operation_id="page.bookings")
def bookings_page(request: Request, message: str | None = None):
    svc = _svc(request)
    with svc.read_session() as s:
        caller = svc.caller(request, s)
        rows = queries.list_bookings(s, caller.scope, limit=200)
    svc.audit_read(caller, case_ids=[r["case_id"] for r in rows], what="bookings")
    return render(request, "bookings.html", caller, rows=rows, message=message, report=None)


@router.post("/bookings", operation_id="form.booking")
def submit_booking_form(
    request: Request,
    booking: Annotated[str, Form(max_length=intake.MAX_LINE_BYTES)],
    csrf_token: Annotated[str | None, Form()] = None,
):
    svc = _svc(request)
    with svc.read_session() as s:
        caller = svc.caller(request, s)
    _check(caller, csrf_token)
    line = booking.replace("\r", " ").replace("\n", " ")
    try:
        ori = json.loads(line).get("ori")
    except (ValueError, AttributeError):
        ori = None
    if isinstance(ori, str) and not caller.scope.allows(ori):
        raise HTTPException(
            403, detail={"field": "ori", "message": "not one of your agency's ORIs"}
        )
    report = intake.submit_bookings(svc.sessions, [line], source=f"web:{caller.name}"[:64])
    with svc.read_session() as s:
        rows = queries.list_bookings(s, caller.scope, limit=200)
    svc.audit_read(caller, case_ids=[r["case_id"] for r in rows], what="bookings")
    return render(request, "bookings.html", caller, rows=rows, message=None, report=report,
                  status=200 if not report.rejected else 422)  # fmt: skip


@router.get("/detainers", operation_id="page.detainers")
def detainers_page(request: Request):
    svc = _svc(request)
    with svc.read_session() as s:
        caller = svc.caller(request, s)
        rows = queries.list_detainers(s, caller.scope, now=_now(), limit=500)
    svc.audit_read(caller, case_ids=[r["case_id"] for r in rows], what="detainers")
    return render(request, "detainers.html", caller, rows=rows,
                  due_hours=int(queries.DUE_WITHIN.total_seconds() // 3600))  # fmt: skip


@router.post("/detainers/{detainer_id}/release-eligible", operation_id="form.release_eligible")
def release_eligible_form(
    request: Request,
    detainer_id: DetainerId,
    at: Annotated[str, Form(max_length=40)],
    csrf_token: Annotated[str | None, Form()] = None,
):
    svc = _svc(request)
    with svc.session() as s:
        caller = svc.caller(request, s)
        _check(caller, csrf_token)
        d = queries.get_detainer(s, caller.scope, detainer_id)
        if d is None:
            raise HTTPException(
                404, detail={"field": "detainer_id", "message": "no such detainer in your scope"}
            )
        try:
            when = parse_release_time(at, lifecycle.facility_zone(s, d.ori))
        except DetainerClockError as exc:
            raise HTTPException(422, detail={"field": "at", "message": str(exc)}) from None
        lifecycle.report_release_eligible(s, d.id, at=when, actor=caller.name)
    return RedirectResponse("/detainers", status_code=303)


@router.get("/cases/{case_id}/charges", operation_id="page.detainer_case")
def charges_page(request: Request, case_id: CaseId):
    svc = _svc(request)
    with svc.read_session() as s:
        caller = svc.caller(request, s)
        if queries.get_case(s, caller.scope, case_id) is None:
            raise HTTPException(
                404, detail={"field": "case_id", "message": "no such case in your scope"}
            )
        charges = queries.booking_charges(s, caller.scope, case_id)
        detainers = [
            r for r in queries.list_detainers(s, caller.scope, now=_now(), limit=1000)
            if r["case_id"] == case_id
        ]  # fmt: skip
    svc.audit_read(caller, case_ids=[case_id], what="charges")
    return render(request, "charges.html", caller, case_id=case_id, charges=charges,
                  detainers=detainers)  # fmt: skip


@router.post("/cases/{case_id}/charges/{charge_index}/disposition", operation_id="form.disposition")
def disposition_form(
    request: Request,
    case_id: CaseId,
    charge_index: ChargeIndex,
    disposition: Annotated[str, Form(max_length=20)],
    at: Annotated[str | None, Form(max_length=40)] = None,
    csrf_token: Annotated[str | None, Form()] = None,
):
    svc = _svc(request)
    with svc.session() as s:
        caller = svc.caller(request, s)
        _check(caller, csrf_token)
        case = queries.get_case(s, caller.scope, case_id)
        if case is None:
            raise HTTPException(
                404, detail={"field": "case_id", "message": "no such case in your scope"}
            )
        try:
            zone = lifecycle.facility_zone(s, case.ori)
            when = parse_release_time(at, zone) if at else _now()
        except DetainerClockError as exc:
            raise HTTPException(422, detail={"field": "at", "message": str(exc)}) from None
        lifecycle.record_disposition(s, case_id=case_id, charge_index=charge_index,
                                     disposition=disposition, at=when, actor=caller.name)  # fmt: skip
    return RedirectResponse(f"/cases/{case_id}/charges", status_code=303)


@router.get("/notices", operation_id="page.notices")
def notices_page(request: Request):
    svc = _svc(request)
    with svc.read_session() as s:
        caller = svc.caller(request, s)
        rows = queries.list_notices(s, caller.scope, limit=NOTICES_PER_PAGE)
    svc.audit_read(caller, case_ids=[r["case_id"] for r in rows], what="notices")
    return render(request, "notices.html", caller, rows=rows)


# --------------------------------------------------------------------------- field office


@router.get("/worklist", operation_id="page.worklist")
def worklist_page(request: Request):
    svc = _svc(request)
    with svc.read_session() as s:
        caller = svc.caller(request, s)
        rows = queries.worklist(s, caller.scope, limit=200)
    svc.audit_read(caller, case_ids=[r["case_id"] for r in rows], what="worklist")
    return render(request, "worklist.html", caller, rows=rows)


@router.get("/cases/{case_id}", operation_id="page.case")
def case_page(request: Request, case_id: CaseId):
    svc = _svc(request)
    with svc.read_session() as s:
        caller = svc.caller(request, s)
        view = queries.case_view(s, caller.scope, case_id, now=_now(),
                                 deidentified=caller.role == "panel")  # fmt: skip
        if view is None:
            raise HTTPException(
                404, detail={"field": "case_id", "message": "no such case in your scope"}
            )
    svc.audit_read(caller, case_ids=[case_id], what="case")
    return render(request, "case.html", caller, view=view, actions=[a.value for a in Action],
                  can_decide=svc.allowed(caller.role, "form.decide")
                  and view["state"] == "awaiting_officer",
                  can_approve=svc.allowed(caller.role, "form.approve")
                  and view["state"] == "awaiting_supervisor")  # fmt: skip


@router.post("/cases/{case_id}/decision", operation_id="form.decide")
def decide_form(
    request: Request,
    case_id: CaseId,
    choice: Annotated[str, Form(max_length=40)],
    reason: Annotated[str | None, Form(max_length=2000)] = None,
    csrf_token: Annotated[str | None, Form()] = None,
):
    svc = _svc(request)
    with svc.session() as s:
        caller = svc.caller(request, s)
        _check(caller, csrf_token)
        if queries.get_case(s, caller.scope, case_id) is None:
            raise HTTPException(
                404, detail={"field": "case_id", "message": "no such case in your scope"}
            )
        accept = choice == "accept"
        field_office.decide(s, case_id, officer=caller.name, accept=accept,
                            override=None if accept else choice, reason=reason or None)  # fmt: skip
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.get("/approvals", operation_id="page.approvals")
def approvals_page(request: Request):
    svc = _svc(request)
    with svc.read_session() as s:
        caller = svc.caller(request, s)
        rows = queries.approval_queue(s, caller.scope, limit=200)
    svc.audit_read(caller, case_ids=[r["case_id"] for r in rows], what="approvals")
    return render(request, "approvals.html", caller, rows=rows)


@router.post("/cases/{case_id}/approval", operation_id="form.approve")
def approve_form(
    request: Request,
    case_id: CaseId,
    decision: Annotated[str, Form(pattern="^(approve|deny)$")],
    reason: Annotated[str | None, Form(max_length=2000)] = None,
    csrf_token: Annotated[str | None, Form()] = None,
):
    svc = _svc(request)
    with svc.session() as s:
        caller = svc.caller(request, s)
        _check(caller, csrf_token)
        if queries.get_case(s, caller.scope, case_id) is None:
            raise HTTPException(
                404, detail={"field": "case_id", "message": "no such case in your scope"}
            )
        field_office.approve(s, case_id, supervisor=caller.name, deny=decision == "deny",
                             reason=reason or None)  # fmt: skip
    return RedirectResponse("/approvals", status_code=303)


# --------------------------------------------------------------------------- admin


@router.get("/admin", operation_id="page.admin")
def admin_page(request: Request, done: str | None = None):
    svc = _svc(request)
    with svc.read_session() as s:
        caller = svc.caller(request, s)
        users = svc.users.list_users(s)
        jurisdictions = queries.list_jurisdictions(s)
    return render(request, "admin.html", caller, users=users, jurisdictions=jurisdictions,
                  roles=svc.users.ROLES, done=done)  # fmt: skip


def _user_error(exc: Exception) -> HTTPException:
    # the users registry names the field first ("role: ..."), never a secret
    field, _, message = str(exc).partition(": ")
    return HTTPException(422, detail={"field": field if message else None,
                                      "message": message or str(exc)})  # fmt: skip


def _list(text: str | None) -> tuple[str, ...]:
    return tuple(p.strip() for p in (text or "").replace(",", " ").split() if p.strip())


@router.post("/admin/users", operation_id="form.add_user")
def add_user_form(
    request: Request,
    name: Annotated[str, Form(max_length=200)],
    role: Annotated[str, Form(max_length=40)],
    password: Annotated[str, Form(max_length=1024)],
    jurisdictions: Annotated[str | None, Form(max_length=2000)] = None,
    areas: Annotated[str | None, Form(max_length=2000)] = None,
    csrf_token: Annotated[str | None, Form()] = None,
):
    """An administrator adds a user (the registry checks the name, role and scope; the
    administrator is the actor of the audit entry)."""
    svc = _svc(request)
    caller = request.state.caller
    _check(caller, csrf_token)
    try:
        with svc.session() as s:
            svc.users.add_user(s, name, role, jurisdictions=_list(jurisdictions),
                               areas=_list(areas), password=password, actor=caller.name)  # fmt: skip
    except svc.users.UserError as exc:
        raise _user_error(exc) from None
    return RedirectResponse("/admin?done=added", status_code=303)


@router.post("/admin/users/disable", operation_id="form.disable_user")
def disable_user_form(
    request: Request,
    name: Annotated[str, Form(max_length=200)],
    csrf_token: Annotated[str | None, Form()] = None,
):
    svc = _svc(request)
    caller = request.state.caller
    _check(caller, csrf_token)
    try:
        with svc.session() as s:
            svc.users.disable_user(s, name, actor=caller.name)
    except svc.users.UserError as exc:
        raise _user_error(exc) from None
    return RedirectResponse("/admin?done=disabled", status_code=303)


# --------------------------------------------------------------------------- public


@router.get("/public", operation_id="page.public")
def public_page(request: Request, lang: str = "en", month: str | None = None):
    svc = _svc(request)
    with svc.read_session() as s:
        caller = svc.caller(request, s)
        names = {j["ori"]: j["name"] for j in queries.list_jurisdictions(s) if j["name"]}
    language = lang if lang in LANGUAGES else "en"
    policy = public.policy_in_force(language)
    stats = public.statistics(svc)
    return render(request, "public.html", caller, policy=policy, stats=stats,
                  charts=public.public_charts(svc, names, policy["description"]["labels"]),
                  language=language,
                  languages=[(code, LANGUAGE_NAMES.get(code, code)) for code in LANGUAGES])  # fmt: skip


@router.get("/assets/vega.js", operation_id="public.assets")
def vega_js(request: Request):
    """The Vega / Vega-Lite / Vega-Embed bundle vl-convert ships (offline charts, no CDN)."""
    from fastapi.responses import Response

    from ..stats.render import vega_javascript

    svc = _svc(request)
    with svc.read_session() as s:
        svc.caller(request, s)
    return Response(
        str(vega_javascript()),
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=86400"},
    )
