"""The oversight portals (issue 11 item 1; report IV rec. 4, IV rec. 5, IV rec. 6): the public
complaint form and receipt status, the CRCL complaint desk and alerts, the panel's review.

Thin like :mod:`.pages`: authorize (:meth:`Service.caller`), call ``securecomm.oversight``
(complaints, panel, adherence -- every rule lives there), render. Forms that change state carry
a CSRF token: the session's for a logged-in user; for the anonymous public form a double-submit
token (a random value in a ``SameSite=Strict`` cookie that the form must repeat, so another site
cannot post the form in a visitor's name)."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from ..oversight import adherence, complaints, panel
from ..store import audit
from ..store.models import (
    ComplaintCategory,
    ComplaintLinkKind,
    ComplaintStage,
    PanelDraw,
    PanelFrame,
)
from . import auth, complaint_text
from .app import gate
from .pages import LANGUAGE_NAMES, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(gate)])

PUBLIC_CSRF_COOKIE = "sc_public_csrf"
ComplaintId = Annotated[int, Path(ge=1, le=2**63 - 1)]
DrawId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Pseudonym = Annotated[str, Path(min_length=3, max_length=32, pattern=r"^[A-Za-z0-9-]+$")]

#: Operations whose answer holds a complainant's identity or narrative, or a sampled case:
#: each call is an audit entry (who, what, when), like the web service's person reads.
AUDITED_READS = frozenset({"page.complaint", "complaint.read", "page.panel_case"})


def _svc(request: Request):
    return request.app.state.service


def refused(exc: Exception) -> HTTPException:
    """An oversight service refusal (``"field: message"``, no personal data) as a 422."""
    field, sep, message = str(exc).partition(": ")
    if not sep or " " in field:
        field, message = None, str(exc)
    return HTTPException(422, detail={"field": field, "message": message})


def audit_read(svc, caller, what: str, subject: dict[str, Any] | None) -> None:
    """The audit entry of a read of a complaint or a sampled case (fail closed: written before
    the page is returned)."""
    if caller.operation not in AUDITED_READS:
        return
    with svc.session() as s:
        audit.append(s, "web.read", actor=caller.name, subject=subject,
                     payload={"operation": caller.operation, "what": what})  # fmt: skip


def _language(lang: str | None) -> str:
    return lang if lang in complaint_text.LANGUAGES else "en"


def _languages() -> list[tuple[str, str]]:
    return [(c, LANGUAGE_NAMES.get(c, c)) for c in complaint_text.LANGUAGES]


# --------------------------------------------------------------------------- public


@router.get("/complaint", operation_id="page.complaint_form")
def complaint_form(request: Request, lang: str = "en"):
    svc = _svc(request)
    with svc.read_session() as s:
        caller = svc.caller(request, s)
    language = _language(lang)
    token = caller.csrf if caller.principal is not None else secrets.token_urlsafe(24)
    response = render(request, "complaint_form.html", caller, language=language,
                      languages=_languages(), t=complaint_text.text(language), form_token=token,
                      receipt=None)  # fmt: skip
    if caller.principal is None:
        response.set_cookie(PUBLIC_CSRF_COOKIE, token, max_age=3600, httponly=True,
                            secure=svc.settings.secure_cookies, samesite="strict", path="/")  # fmt: skip
    return response


@router.post("/complaint", operation_id="form.complaint")
def complaint_submit(
    request: Request,
    category: Annotated[str, Form(max_length=60)],
    narrative: Annotated[str, Form(max_length=20000)],
    language: Annotated[str, Form(max_length=10)] = "en",
    name: Annotated[str | None, Form(max_length=300)] = None,
    contact: Annotated[str | None, Form(max_length=600)] = None,
    ori: Annotated[str | None, Form(max_length=20)] = None,
    csrf_token: Annotated[str | None, Form()] = None,
):
    svc = _svc(request)
    caller = request.state.caller
    if caller.principal is not None:
        auth.check_csrf(caller.session_data, csrf_token)
    else:
        auth.check_csrf({"csrf": request.cookies.get(PUBLIC_CSRF_COOKIE)}, csrf_token)
    lang = _language(language)
    links = [("jurisdiction", ori.strip().upper())] if ori and ori.strip() else []
    try:
        with svc.session() as s:
            code = complaints.file_public(s, category=category, language=lang,
                                          narrative=narrative, name=name or None,
                                          contact=contact or None, links=links)  # fmt: skip
    except complaints.ComplaintError as exc:
        raise refused(exc) from None
    response = render(request, "complaint_form.html", caller, language=lang,
                      languages=_languages(), t=complaint_text.text(lang), form_token=None,
                      receipt=code)  # fmt: skip
    response.delete_cookie(PUBLIC_CSRF_COOKIE, path="/")
    return response


@router.get("/complaint/status", operation_id="page.complaint_status")
def complaint_status(request: Request, receipt: str | None = None, lang: str = "en"):
    """Status only: stage, dates, the public outcome statement -- nothing personal."""
    svc = _svc(request)
    language = _language(lang)
    found, missing = None, False
    with svc.read_session() as s:
        caller = svc.caller(request, s)
        if receipt:
            try:
                found = complaints.public_status(s, receipt[:40])
            except complaints.ComplaintError:
                missing = True
    return render(request, "complaint_status.html", caller, status=404 if missing else 200,
                  found=found, missing=missing, receipt=(receipt or "")[:40], language=language,
                  languages=_languages(), t=complaint_text.text(language))  # fmt: skip


# --------------------------------------------------------------------------- CRCL


@router.get("/complaints", operation_id="page.complaints")
def complaints_page(request: Request, stage: str | None = None):
    svc = _svc(request)
    with svc.read_session() as s:
        caller = svc.caller(request, s)
        try:
            rows = complaints.list_complaints(s, stage=stage or None)
        except complaints.ComplaintError as exc:
            raise refused(exc) from None
        breached = complaints.breaches(s)
    return render(request, "complaints.html", caller, rows=rows, breaches=breached,
                  stages=[x.value for x in ComplaintStage], stage=stage or "")  # fmt: skip


@router.get("/complaints/new", operation_id="page.complaint_intake")
def complaint_intake_page(request: Request):
    svc = _svc(request)
    with svc.read_session() as s:
        caller = svc.caller(request, s)
    return render(request, "complaint_intake.html", caller,
                  channels=[c.value for c in complaints.STAFF_CHANNELS],
                  categories=[c.value for c in ComplaintCategory],
                  languages=_languages(), kinds=[k.value for k in ComplaintLinkKind])  # fmt: skip


@router.post("/complaints/new", operation_id="form.complaint_intake")
def complaint_intake(
    request: Request,
    channel: Annotated[str, Form(max_length=20)],
    category: Annotated[str, Form(max_length=60)],
    narrative: Annotated[str, Form(max_length=20000)],
    language: Annotated[str, Form(max_length=10)] = "en",
    name: Annotated[str | None, Form(max_length=300)] = None,
    contact: Annotated[str | None, Form(max_length=600)] = None,
    anonymous: Annotated[bool, Form()] = False,
    link_kind: Annotated[str | None, Form(max_length=20)] = None,
    link_ref: Annotated[str | None, Form(max_length=100)] = None,
    csrf_token: Annotated[str | None, Form()] = None,
):
    """CRCL staff record a phone, paper or e-mail complaint (the logged-in user is the actor)."""
    svc = _svc(request)
    caller = request.state.caller
    auth.check_csrf(caller.session_data, csrf_token)
    links = [(link_kind, link_ref.strip())] if link_kind and link_ref and link_ref.strip() else []
    try:
        with svc.session() as s:
            c = complaints.file_complaint(
                s, channel=channel, category=category, language=language, narrative=narrative,
                name=name or None, contact=contact or None, anonymous=anonymous, links=links,
                actor=caller.name,
            )  # fmt: skip
            cid = c.id
    except complaints.ComplaintError as exc:
        raise refused(exc) from None
    return RedirectResponse(f"/complaints/{cid}", status_code=303)


@router.get("/complaints/{complaint_id}", operation_id="page.complaint")
def complaint_page(request: Request, complaint_id: ComplaintId):
    svc = _svc(request)
    with svc.read_session() as s:
        caller = svc.caller(request, s)
        try:
            doc = complaints.view(s, complaint_id, role=caller.role)
        except complaints.ComplaintError:
            raise HTTPException(404, detail={"field": "complaint_id",
                                             "message": "no such complaint"}) from None  # fmt: skip
        stage = ComplaintStage(doc["stage"])
        nexts = sorted(x.value for x in complaints.TRANSITIONS[stage])
        investigators = [u.name for u in svc.users.list_users(s)
                         if u.role == "crcl" and not getattr(u, "disabled", False)]  # fmt: skip
    audit_read(svc, caller, "complaint", {"complaint_id": complaint_id})
    return render(request, "complaint.html", caller, c=doc, nexts=nexts,
                  finals=[x.value for x in complaints.FINAL_STAGES],
                  investigators=investigators, kinds=[k.value for k in ComplaintLinkKind])  # fmt: skip


def _complaint_write(request: Request, csrf_token: str | None, fn) -> None:
    svc = _svc(request)
    caller = request.state.caller
    auth.check_csrf(caller.session_data, csrf_token)
    try:
        with svc.session() as s:
            fn(s, caller.name)
    except complaints.ComplaintError as exc:
        raise refused(exc) from None


@router.post("/complaints/{complaint_id}/advance", operation_id="form.complaint_advance")
def complaint_advance(
    request: Request,
    complaint_id: ComplaintId,
    to: Annotated[str, Form(max_length=20)],
    outcome: Annotated[str | None, Form(max_length=4000)] = None,
    referred_to: Annotated[str | None, Form(max_length=200)] = None,
    csrf_token: Annotated[str | None, Form()] = None,
):
    _complaint_write(request, csrf_token, lambda s, actor: complaints.advance(
        s, complaint_id, to, actor=actor, outcome=outcome or None,
        referred_to=referred_to or None))  # fmt: skip
    return RedirectResponse(f"/complaints/{complaint_id}", status_code=303)


@router.post("/complaints/{complaint_id}/assign", operation_id="form.complaint_assign")
def complaint_assign(
    request: Request,
    complaint_id: ComplaintId,
    investigator: Annotated[str, Form(max_length=128)],
    csrf_token: Annotated[str | None, Form()] = None,
):
    _complaint_write(request, csrf_token, lambda s, actor: complaints.assign(
        s, complaint_id, investigator, actor=actor))  # fmt: skip
    return RedirectResponse(f"/complaints/{complaint_id}", status_code=303)


@router.post("/complaints/{complaint_id}/link", operation_id="form.complaint_link")
def complaint_link(
    request: Request,
    complaint_id: ComplaintId,
    kind: Annotated[str, Form(max_length=20)],
    ref: Annotated[str, Form(max_length=100)],
    csrf_token: Annotated[str | None, Form()] = None,
):
    _complaint_write(request, csrf_token, lambda s, actor: complaints.link(
        s, complaint_id, kind, ref.strip(), actor=actor))  # fmt: skip
    return RedirectResponse(f"/complaints/{complaint_id}", status_code=303)


@router.get("/oversight/alerts", operation_id="page.alerts")
def alerts_page(request: Request):
    """Adherence and detainer alerts (II rec. 3, IV rec. 5): ids and jurisdictions, no person."""
    svc = _svc(request)
    with svc.read_session() as s:
        caller = svc.caller(request, s)
        rows = adherence.alerts(s)
    return render(request, "oversight_alerts.html", caller, rows=rows)


# --------------------------------------------------------------------------- panel


@router.get("/panel", operation_id="page.panel_draws")
def panel_draws(request: Request):
    svc = _svc(request)
    with svc.read_session() as s:
        caller = svc.caller(request, s)
        rows = s.execute(select(PanelDraw, PanelFrame.period)
                         .join(PanelFrame, PanelFrame.id == PanelDraw.frame_id)
                         .order_by(PanelDraw.id.desc())).all()  # fmt: skip
        draws = [{"id": d.id, "period": period, "seed": d.seed, "size": d.size,
                  "drawn_at": d.drawn_at.isoformat(), "drawn_by": d.drawn_by,
                  "sample_sha256": d.sample_sha256} for d, period in rows]  # fmt: skip
    return render(request, "panel_draws.html", caller, draws=draws)


@router.get("/panel/draws/{draw_id}", operation_id="page.panel_draw")
def panel_draw_page(request: Request, draw_id: DrawId, recorded: str | None = None):
    svc = _svc(request)
    with svc.read_session() as s:
        caller = svc.caller(request, s)
        try:
            report = panel.findings_report(s, draw_id)
        except panel.PanelError:
            raise HTTPException(404, detail={"field": "draw_id",
                                             "message": "no such draw"}) from None  # fmt: skip
    return render(request, "panel_draw.html", caller, draw=report.draw, rows=report.rows,
                  summary=report.summary, recorded=(recorded or "")[:32])  # fmt: skip


@router.get("/panel/draws/{draw_id}/cases/{pseudonym}", operation_id="page.panel_case")
def panel_case_page(request: Request, draw_id: DrawId, pseudonym: Pseudonym):
    svc = _svc(request)
    with svc.read_session() as s:
        caller = svc.caller(request, s)
        try:
            case = panel.deidentified_case(s, draw_id, pseudonym)
        except panel.PanelError:
            raise HTTPException(404, detail={"field": "pseudonym",
                                             "message": "no such case in this draw"}) from None  # fmt: skip
    audit_read(svc, caller, "panel case", {"draw_id": draw_id, "pseudonym": case["pseudonym"]})
    return render(request, "panel_case.html", caller, case=case, answers=panel.ANSWERS,
                  findings=[f for f in ("adherent", "deviation", "unable_to_determine")])  # fmt: skip


@router.post("/panel/draws/{draw_id}/cases/{pseudonym}/finding", operation_id="form.panel_finding")
async def panel_finding(request: Request, draw_id: DrawId, pseudonym: Pseudonym):
    """The checklist answers arrive as ``answer.<item>`` fields (one per checklist item)."""
    svc = _svc(request)
    caller = request.state.caller
    form = await request.form()
    auth.check_csrf(caller.session_data, form.get(auth.CSRF_FIELD))
    answers = {k.removeprefix("answer."): str(v)[:10] for k, v in form.items()
               if k.startswith("answer.")}  # fmt: skip
    finding, note = str(form.get("finding") or "")[:40], form.get("note")
    note = str(note)[:4001] if note else None

    def write() -> None:
        with svc.session() as s:
            panel.record_finding(s, draw_id, pseudonym, reviewer=caller.name, answers=answers,
                                 finding=finding, note=note)  # fmt: skip

    from starlette.concurrency import run_in_threadpool

    try:
        await run_in_threadpool(write)
    except panel.PanelError as exc:
        raise refused(exc) from None
    return RedirectResponse(f"/panel/draws/{draw_id}?recorded={pseudonym}", status_code=303)
