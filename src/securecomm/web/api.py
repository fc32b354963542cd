"""JSON API ``/api/v1`` (issue 10 item 3). Each route's ``operation_id`` is its permission in
``access_policy.csv``; :meth:`Service.caller` checks it before anything else runs."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from ..interop import field_office, intake, lifecycle, queries
from ..interop.messages import BookingSubmission
from ..law.detainer_clock import DetainerClockError, parse_release_time
from ..law.schema import Action
from ..store.models import Jurisdiction
from . import auth, public
from .app import gate

router = APIRouter(prefix="/api/v1", dependencies=[Depends(gate)])

# path parameters within what the store can hold (a 64-bit id, a case id column)
DetainerId = Annotated[int, Path(ge=1, le=2**63 - 1)]
ChargeIndex = Annotated[int, Path(ge=0, le=99)]
CaseId = Annotated[str, Path(min_length=1, max_length=64)]

MAX_BODY = intake.MAX_LINE_BYTES * 100  # one request: at most 100 bookings of the largest size


def service(request: Request):
    return request.app.state.service


def _not_found(what: str, field: str) -> HTTPException:
    # out of scope and absent answer the same: the existence of another agency's record is
    # itself not disclosed
    return HTTPException(404, detail={"field": field, "message": f"no such {what} in your scope"})


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --------------------------------------------------------------------------- models


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class Problem(BaseModel):
    status: int
    field: str | None = None
    message: str


class ErrorBody(BaseModel):
    error: Problem


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 413, 422, 429)
}


class Decide(BaseModel):
    model_config = ConfigDict(extra="forbid")
    accept: bool = Field(False, description="Accept the recommendation as it is.")
    override: Action | None = Field(None, description="Another action instead (needs a reason).")
    reason: str | None = Field(None, max_length=2000)


class Approve(BaseModel):
    model_config = ConfigDict(extra="forbid")
    deny: bool = False
    reason: str | None = Field(None, max_length=2000, description="Required to deny.")


class ReleaseEligible(BaseModel):
    model_config = ConfigDict(extra="forbid")
    at: str = Field(
        ..., max_length=40,
        description="When the person would otherwise be released: ISO 8601; without an offset "
        "it is the holding facility's local time.",
    )  # fmt: skip


class DispositionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    disposition: Literal["convicted", "dismissed", "acquitted"]
    at: str | None = Field(None, max_length=40, description="Default now; no offset = local time.")


def _local_time(text: str | None, timezone: str, field: str) -> dt.datetime:
    if text is None:
        return _now()
    try:
        return parse_release_time(text, timezone)
    except DetainerClockError as exc:
        raise HTTPException(422, detail={"field": field, "message": str(exc)}) from None


def _zone_of(session, ori: str) -> str:
    return lifecycle.facility_zone(session, ori)


# --------------------------------------------------------------------------- auth


@router.post("/auth/token", operation_id="auth.token", tags=["public"], response_model=Token,
             responses=ERRORS)  # fmt: skip
def issue_token(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    """OAuth2 password flow: a signed bearer token that expires (``expires_in`` seconds)."""
    svc = service(request)
    keys = auth.login_keys(request, form.username)
    svc.throttle.check(*keys)
    with svc.session() as s:
        principal = svc.users.authenticate_password(s, form.username, form.password)
    if principal is None:
        svc.throttle.failed(*keys)
        raise auth.unauthorized("wrong user name or password, or the user is disabled")
    svc.throttle.succeeded(*keys)
    return Token(access_token=svc.signer.token(principal.name),
                 expires_in=svc.settings.token_seconds)  # fmt: skip


# --------------------------------------------------------------------------- bookings

_BOOKING_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": BookingSubmission.model_json_schema()},
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
    }
}


@router.post("/bookings", operation_id="booking.submit", tags=["bookings"], responses=ERRORS,
             openapi_extra=_BOOKING_BODY)  # fmt: skip
async def submit_bookings(request: Request) -> dict[str, Any]:
    """Submit Booking submission v1 documents: one JSON object, or JSON Lines
    (``application/x-ndjson``). The same validation as ``securecomm submit``: idempotent on the
    TCN, invalid lines kept in the rejected-input store with their reasons and named here.
    A booking for an ORI outside your agency is refused before anything is stored."""
    svc = service(request)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:  # refuse before reading it
        raise HTTPException(413, detail={"field": "body", "message": "request too large"})
    body = await request.body()
    if len(body) > MAX_BODY:
        raise HTTPException(413, detail={"field": "body", "message": "request too large"})
    text = body.decode("utf-8", "replace")
    ndjson = "ndjson" in request.headers.get("content-type", "")
    lines = text.splitlines() if ndjson else [text.replace("\r", " ").replace("\n", " ")]
    caller = request.state.caller  # authorized by the router's gate before the body was read
    for n, line in enumerate(lines, start=1):
        try:
            ori = json.loads(line).get("ori") if line.strip() else None
        except (ValueError, AttributeError):
            ori = None  # not a booking: intake rejects and keeps it
        if isinstance(ori, str) and not caller.scope.allows(ori):
            raise HTTPException(403, detail={"field": f"line {n}: ori",
                                             "message": "not one of your agency's ORIs"})  # fmt: skip
    # the store is synchronous: off the event loop, like every other handler
    report = await run_in_threadpool(
        intake.submit_bookings, svc.sessions, lines, source=f"api:{caller.name}"[:64]
    )
    out = {
        **report.to_dict(),
        "rejections": [
            {"line": r.line, "tcn": r.tcn, "errors": r.errors} for r in report.rejections
        ],
    }
    if report.rejected and not (report.accepted or report.duplicates):
        first = report.rejections[0].errors[0] if report.rejections[0].errors else {}
        raise HTTPException(422, detail={"field": first.get("field"),
                                         "message": first.get("message", "rejected"),
                                         "report": out})  # fmt: skip
    return out


@router.get("/bookings", operation_id="booking.list", tags=["bookings"], responses=ERRORS)
def list_bookings(request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 100):
    """Your agency's bookings, newest first, with their pipeline stage and case."""
    svc = service(request)
    with svc.read_session() as s:
        caller = svc.caller(request, s)
        rows = queries.list_bookings(s, caller.scope, limit=limit)
    svc.audit_read(caller, case_ids=[r["case_id"] for r in rows], what="bookings")
    return rows


@router.get("/bookings/{tcn}", operation_id="booking.read", tags=["bookings"], responses=ERRORS)
def read_booking(request: Request, tcn: Annotated[str, Path(max_length=64)]):
    """One booking's status and the responses sent to the agency about it."""
    svc = service(request)
    with svc.read_session() as s:
        caller = svc.caller(request, s)
        row = queries.submission_status(s, caller.scope, tcn)
        if row is None:
            raise _not_found("booking", "tcn")
    svc.audit_read(caller, case_ids=[row["case_id"]], what=f"booking {tcn}")
    return row


# --------------------------------------------------------------------------- detainers


@router.get("/detainers", operation_id="detainer.list", tags=["detainers"], responses=ERRORS)
def list_detainers(
    request: Request,
    open_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
):
    """Detainers with their hold-until time in the facility's local time (8 CFR 287.7(d):
    48 hours excluding Saturdays, Sundays and holidays), time left, due within 4 h, overdue."""
    svc = service(request)
    with svc.read_session() as s:
        caller = svc.caller(request, s)
        rows = queries.list_detainers(s, caller.scope, now=_now(), open_only=open_only, limit=limit)
    svc.audit_read(caller, case_ids=[r["case_id"] for r in rows], what="detainers")
    return rows


@router.post("/detainers/{detainer_id}/release-eligible", operation_id="detainer.release_eligible",
             tags=["detainers"], responses=ERRORS)  # fmt: skip
def release_eligible(request: Request, detainer_id: DetainerId, body: ReleaseEligible):
    """Report when the person would otherwise be released: the hold starts and its
    hold-until time is computed (8 CFR 287.7(d))."""
    svc = service(request)
    with svc.session() as s:
        caller = svc.caller(request, s)
        d = queries.get_detainer(s, caller.scope, detainer_id)
        if d is None:
            raise _not_found("detainer", "detainer_id")
        when = _local_time(body.at, _zone_of(s, d.ori), "at")
        d = lifecycle.report_release_eligible(s, d.id, at=when, actor=caller.name)
        return queries.detainer_dict(d, queries._zones(s, [d.ori]).get(d.ori), _now())


@router.post("/cases/{case_id}/charges/{charge_index}/disposition",
             operation_id="charge.disposition", tags=["detainers"], responses=ERRORS)  # fmt: skip
def disposition(request: Request, case_id: CaseId, charge_index: ChargeIndex, body: DispositionIn):
    """Record a charge's disposition: a conviction activates a conditional detainer waiting
    on it, dismissal or acquittal of every charge it waits on lapses it (III rec. 1)."""
    svc = service(request)
    with svc.session() as s:
        caller = svc.caller(request, s)
        case = queries.get_case(s, caller.scope, case_id)
        if case is None:
            raise _not_found("case", "case_id")
        when = _local_time(body.at, _zone_of(s, case.ori), "at")
        changed = lifecycle.record_disposition(
            s, case_id=case_id, charge_index=charge_index, disposition=body.disposition,
            at=when, actor=caller.name,
        )  # fmt: skip
        return {
            "case_id": case_id,
            "charge_index": charge_index,
            "disposition": body.disposition,
            "detainers_changed": [{"id": d.id, "state": d.state.value} for d in changed],
        }


# --------------------------------------------------------------------------- notices


@router.get("/notices", operation_id="notice.list", tags=["notices"], responses=ERRORS)
def list_notices(request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 100):
    """Notices to your agency, newest first: only what its disclosure choice lets through
    (IV.3, IV rec. 3); detainers and notification requests always."""
    svc = service(request)
    with svc.read_session() as s:
        caller = svc.caller(request, s)
        rows = queries.list_notices(s, caller.scope, limit=limit)
    svc.audit_read(caller, case_ids=[r["case_id"] for r in rows], what="notices")
    return rows


# --------------------------------------------------------------------------- field office


@router.get("/worklist", operation_id="case.worklist", tags=["cases"], responses=ERRORS)
def worklist(request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 100):
    """Cases awaiting an officer's decision in your areas of responsibility, oldest first."""
    svc = service(request)
    with svc.read_session() as s:
        caller = svc.caller(request, s)
        rows = queries.worklist(s, caller.scope, limit=limit)
    svc.audit_read(caller, case_ids=[r["case_id"] for r in rows], what="worklist")
    return rows


@router.get("/cases/{case_id}", operation_id="case.read", tags=["cases"], responses=ERRORS)
def read_case(request: Request, case_id: CaseId):
    """A case with its recommendation (Decision v1: every reason with its citation), the
    officer's and supervisor's actions and its detainers. De-identified for the review panel."""
    svc = service(request)
    with svc.read_session() as s:
        caller = svc.caller(request, s)
        view = queries.case_view(s, caller.scope, case_id, now=_now(),
                                 deidentified=caller.role == "panel")  # fmt: skip
        if view is None:
            raise _not_found("case", "case_id")
    svc.audit_read(caller, case_ids=[case_id], what="case")
    return view


@router.post("/cases/{case_id}/decision", operation_id="case.decide", tags=["cases"],
             responses=ERRORS)  # fmt: skip
def decide(request: Request, case_id: CaseId, body: Decide):
    """Accept the recommendation, or override it with a reason. You are the officer of
    record. A safeguard override goes to a supervisor (IV rec. 2)."""
    svc = service(request)
    with svc.session() as s:
        caller = svc.caller(request, s)
        if queries.get_case(s, caller.scope, case_id) is None:
            raise _not_found("case", "case_id")
        out = field_office.decide(s, case_id, officer=caller.name, accept=body.accept,
                                  override=body.override, reason=body.reason)  # fmt: skip
        return out.to_dict()


@router.get("/approvals", operation_id="case.approvals", tags=["cases"], responses=ERRORS)
def approvals(request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 100):
    """Decisions awaiting a supervisor in your areas, each with the officer's decision."""
    svc = service(request)
    with svc.read_session() as s:
        caller = svc.caller(request, s)
        rows = queries.approval_queue(s, caller.scope, limit=limit)
    svc.audit_read(caller, case_ids=[r["case_id"] for r in rows], what="approvals")
    return rows


@router.post("/cases/{case_id}/approval", operation_id="case.approve", tags=["cases"],
             responses=ERRORS)  # fmt: skip
def approve(request: Request, case_id: CaseId, body: Approve):
    """Approve (or deny, with a reason) the decision awaiting you. A supervisor cannot
    approve their own decision: approval comes from a second user."""
    svc = service(request)
    with svc.session() as s:
        caller = svc.caller(request, s)
        if queries.get_case(s, caller.scope, case_id) is None:
            raise _not_found("case", "case_id")
        out = field_office.approve(s, case_id, supervisor=caller.name, deny=body.deny,
                                   reason=body.reason)  # fmt: skip
        return out.to_dict()


# --------------------------------------------------------------------------- admin


@router.get("/admin/users", operation_id="admin.users", tags=["admin"], responses=ERRORS)
def admin_users(request: Request):
    """The users registry (no password, no key)."""
    svc = service(request)
    with svc.read_session() as s:
        svc.caller(request, s)
        return [_user_dict(p) for p in svc.users.list_users(s)]


def _user_dict(p: Any) -> dict[str, Any]:
    return {"name": p.name, "role": p.role, "jurisdictions": list(p.jurisdictions),
            "areas": list(p.areas), "disabled": p.disabled}  # fmt: skip


@router.get("/admin/jurisdictions", operation_id="admin.jurisdictions", tags=["admin"],
            responses=ERRORS)  # fmt: skip
def admin_jurisdictions(request: Request):
    """Jurisdictions with their disclosure choice (IV rec. 3) and time zone."""
    svc = service(request)
    with svc.read_session() as s:
        svc.caller(request, s)
        return queries.list_jurisdictions(s)


# --------------------------------------------------------------------------- public


@router.get("/public/statistics", operation_id="public.stats", tags=["public"], responses=ERRORS)
def statistics(
    request: Request,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
    state: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$")] = None,
):
    """Monthly statistics per jurisdiction (I rec. 4, II rec. 4), small cells suppressed."""
    from fastapi.responses import Response

    svc = service(request)
    return Response(public.statistics_json(svc, month=month, state=state),
                    media_type="application/json")  # fmt: skip


@router.get("/public/policy", operation_id="public.policy", tags=["public"], responses=ERRORS)
def policy(language: Annotated[str, Query(max_length=16)] = "en"):
    """The policy in force today (by the policy schedule), its rules with their sources, and
    the plain-language description of the program."""
    from ..interop.notices import NoticeError

    try:
        return public.policy_in_force(language)
    except NoticeError as exc:
        raise HTTPException(
            422, detail={"field": "language", "message": str(exc).removeprefix("language: ")}
        ) from None


@router.get("/public/jurisdictions", operation_id="public.program", tags=["public"],
            responses=ERRORS)  # fmt: skip
def public_jurisdictions(request: Request):
    """Participating jurisdictions and their disclosure choice (a public fact, IV rec. 3)."""
    svc = service(request)
    with svc.read_session() as s:
        svc.caller(request, s)
        rows = s.execute(select(Jurisdiction.ori, Jurisdiction.name, Jurisdiction.state,
                                Jurisdiction.county_fips, Jurisdiction.disclosure)
                         .order_by(Jurisdiction.ori)).all()  # fmt: skip
    return [{"ori": r[0], "name": r[1], "state": r[2], "county_fips": r[3],
             "disclosure": getattr(r[4], "value", r[4])} for r in rows]  # fmt: skip
