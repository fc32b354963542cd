"""JSON API of complaints (issue 11 item 1; report IV rec. 4) under ``/api/v1``: filing and the
receipt status are ``public`` (no account); the CRCL desk lists, reads and advances complaints.
Each route's ``operation_id`` is its permission in ``access_policy.csv``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from ..oversight import complaints
from ..store.models import ComplaintCategory, ComplaintLanguage, ComplaintStage
from .api import ERRORS
from .app import gate
from .oversight_pages import ComplaintId, audit_read, refused

router = APIRouter(prefix="/api/v1", dependencies=[Depends(gate)])

ReceiptCode = Annotated[
    str,
    Query(
        min_length=4,
        max_length=40,
        pattern=r"^[0-9A-Za-z-]+$",
        description="The receipt code given when the complaint was filed.",
    ),
]


class ComplaintIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category: ComplaintCategory
    language: ComplaintLanguage = ComplaintLanguage.en
    narrative: str = Field(..., min_length=1, max_length=20000)
    name: str | None = Field(None, max_length=200, description="Optional: anonymous without it.")
    contact: str | None = Field(None, max_length=500)
    ori: str | None = Field(None, max_length=9, description="The police agency, if known.")


class Receipt(BaseModel):
    receipt_code: str = Field(..., description="Keep it: the status is read with it.")
    status_url: str


class Advance(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: Literal["acknowledged", "investigating", "resolved", "referred", "closed"]
    outcome: str | None = Field(None, max_length=4000, description="Final stages: public text.")
    referred_to: str | None = Field(None, max_length=200)


def _svc(request: Request):
    return request.app.state.service


@router.post("/complaints", operation_id="complaint.file", tags=["public"], status_code=201,
             response_model=Receipt, responses=ERRORS)  # fmt: skip
def file_complaint(request: Request, body: ComplaintIn) -> Receipt:
    """File a complaint to CRCL without an account (report IV rec. 4); anonymous without a
    name or contact. Returns the receipt code."""
    svc = _svc(request)
    links = [("jurisdiction", body.ori.strip().upper())] if body.ori and body.ori.strip() else []
    try:
        with svc.session() as s:
            code = complaints.file_public(s, category=body.category.value,
                                          language=body.language.value, narrative=body.narrative,
                                          name=body.name, contact=body.contact, links=links)  # fmt: skip
    except complaints.ComplaintError as exc:
        raise refused(exc) from None
    return Receipt(receipt_code=code, status_url=f"/api/v1/complaint-status?receipt_code={code}")


@router.get("/complaint-status", operation_id="complaint.status", tags=["public"],
            responses=ERRORS)  # fmt: skip
def complaint_status(request: Request, receipt_code: ReceiptCode) -> dict[str, Any]:
    """The status of a complaint by its receipt code: stage, dates, the public outcome."""
    svc = _svc(request)
    with svc.read_session() as s:
        try:
            return complaints.public_status(s, receipt_code)
        except complaints.ComplaintError:
            raise HTTPException(404, detail={"field": "receipt_code",
                                             "message": "no complaint with this receipt code"}) from None  # fmt: skip


@router.get("/complaints", operation_id="complaint.list", tags=["complaints"], responses=ERRORS)
def list_complaints(
    request: Request,
    stage: ComplaintStage | None = None,
    category: ComplaintCategory | None = None,
    overdue: Annotated[bool, Query(description="Only those overdue in their stage.")] = False,
) -> dict[str, Any]:
    """CRCL: complaints, newest first, with their stage deadline (no identity, no narrative)."""
    svc = _svc(request)
    with svc.read_session() as s:
        rows = complaints.list_complaints(s, stage=stage, category=category, overdue=overdue)
    return {"complaints": rows}


@router.get("/complaints/{complaint_id}", operation_id="complaint.read", tags=["complaints"],
            responses=ERRORS)  # fmt: skip
def read_complaint(request: Request, complaint_id: ComplaintId) -> dict[str, Any]:
    """CRCL: a complaint with the complainant, the narrative, its links and its timeline
    (audited read)."""
    svc = _svc(request)
    with svc.read_session() as s:
        caller = svc.caller(request, s)
        try:
            doc = complaints.view(s, complaint_id, role=caller.role)
        except complaints.ComplaintError:
            raise HTTPException(404, detail={"field": "complaint_id",
                                             "message": "no such complaint"}) from None  # fmt: skip
    audit_read(svc, caller, "complaint", {"complaint_id": complaint_id})
    return doc


@router.post("/complaints/{complaint_id}/advance", operation_id="complaint.advance",
             tags=["complaints"], responses=ERRORS)  # fmt: skip
def advance_complaint(request: Request, complaint_id: ComplaintId, body: Advance) -> dict[str, Any]:
    """CRCL: move a complaint to its next stage (``assigned`` goes through the portal's assign,
    which names the investigator)."""
    svc = _svc(request)
    caller = request.state.caller
    try:
        with svc.session() as s:
            c = complaints.advance(s, complaint_id, body.to, actor=caller.name,
                                   outcome=body.outcome, referred_to=body.referred_to)  # fmt: skip
            out = {"id": c.id, "stage": c.stage.value,
                   "stage_due_at": c.stage_due_at.isoformat() if c.stage_due_at else None}  # fmt: skip
    except complaints.ComplaintError as exc:
        raise refused(exc) from None
    return out
