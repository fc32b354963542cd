"""Shared fixtures and builders of the detainer-lifecycle and notice tests (no tests here).

``tests/interop/conftest.py`` belongs to the pipeline tests, so these fixtures live in a module
of their own, loaded by file path from ``test_lifecycle*.py`` and ``test_notices*.py`` (see
their ``_support()``); that works whatever pytest's import mode and whether or not
``tests/interop`` becomes a package.

Backends: the shared plugin ``tests/db_backends.py`` (SQLite and PostgreSQL, as for every
store-backed test); ``lc_db`` is its ``db`` (emptied before each test) under the name these
tests use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db_backends import Backend
from securecomm.store.models import (
    AuditEntry,
    Booking,
    CaseRecord,
    Charge,
    Detainer,
    DetainerEvent,
    Notice,
)

NY = "NY0300000"  # America/New_York
HI = "HI0020000"  # Pacific/Honolulu
CO = "CO0010000"  # America/Denver
ZONES = {NY: "America/New_York", HI: "Pacific/Honolulu", CO: "America/Denver"}
STATES = {NY: "NY", HI: "HI", CO: "CO"}

LOITERING = {"ncic": "5311", "literal": "LOITERING", "severity": "misdemeanor"}
TRESPASS = {"ncic": "5707", "literal": "TRESPASSING", "severity": "misdemeanor"}
NO_LICENSE = {"ncic": "5499", "literal": "DRIVING WITHOUT A LICENSE", "severity": "misdemeanor"}
ASSAULT = {"ncic": "1399", "literal": "AGGRAVATED ASSAULT", "severity": "felony"}

T_ISSUED = datetime(2011, 9, 28, 14, 0, tzinfo=UTC)  # a Wednesday


# --------------------------------------------------------------------------- backends


@pytest.fixture
def lc_db(db: Backend) -> Backend:
    """An emptied, migrated database of each backend (the shared ``db`` fixture of
    ``tests/db_backends.py``; the name kept for the lifecycle and notice tests)."""
    return db


# --------------------------------------------------------------------------- builders


def case_document(
    case_id: str, ori: str, charges: list[dict[str, Any]], **person: Any
) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "decided_at": "2011-09-28T10:00:00-04:00",
        "program": "secure_communities",
        "jurisdiction": {
            "ori": ori,
            "state": STATES[ori],
            "timezone": ZONES[ori],
            "disclosure": person.pop("disclosure", "full"),
            "honors_detainers": True,
        },
        "person": {
            "birth_date": "1985-05-01",
            "citizenship_status": "entered_without_inspection",
            "entered_us_on": "2005-06-01",
            "entry": "without_inspection",
            **person,
        },
        "arrest": {"arrested_at": "2011-09-27T22:00:00-04:00", "charges": charges},
    }


@dataclass
class World:
    """Builds jurisdictions, submissions, bookings, charges and cases with the store."""

    db: Backend

    def jurisdictions(self, session: Session) -> None:
        from securecomm.store.repositories import upsert_jurisdiction

        upsert_jurisdiction(session, NY, state="NY", timezone=ZONES[NY])
        upsert_jurisdiction(session, HI, state="HI", timezone=ZONES[HI])
        upsert_jurisdiction(
            session, CO, state="CO", timezone=ZONES[CO], disclosure="public_safety_only"
        )

    def case(
        self,
        session: Session,
        case_id: str,
        *,
        ori: str = NY,
        charges: list[dict[str, Any]] | None = None,
        booking: bool = True,
        **person: Any,
    ) -> CaseRecord:
        """A case, with a submission, booking and charge rows unless ``booking=False``."""
        from securecomm.store.repositories import open_case, submit_submission

        charges = [dict(c) for c in (charges or [LOITERING])]
        document = case_document(case_id, ori, charges, **person)
        submission_id = None
        if booking:
            submission, _ = submit_submission(
                session, f"TCN-{case_id}", ori, {"case": case_id}, T_ISSUED - timedelta(hours=2)
            )
            row = Booking(
                submission_id=submission.id,
                ori=ori,
                booked_at=T_ISSUED - timedelta(hours=2),
                biographics={},
            )
            session.add(row)
            session.flush()
            for position, charge in enumerate(charges, start=1):
                session.add(
                    Charge(
                        booking_id=row.id,
                        position=position,
                        ncic=charge["ncic"],
                        literal=charge.get("literal", ""),
                        severity=charge["severity"],
                        injury=charge.get("injury", False),
                    )
                )
            session.flush()
            submission_id = submission.id
        case, _ = open_case(
            session, document, opened_at=T_ISSUED - timedelta(hours=1), submission_id=submission_id
        )
        return case


@pytest.fixture
def world(lc_db: Backend) -> World:
    """Jurisdictions NY (America/New_York), HI (Pacific/Honolulu), CO (America/Denver)."""
    w = World(lc_db)
    with lc_db.session() as session, session.begin():
        w.jurisdictions(session)
    return w


def counts(session: Session) -> dict[str, int]:
    """Rows that a retry must not add to."""
    return {
        name: session.scalar(select(func.count()).select_from(model))
        for name, model in (
            ("detainers", Detainer),
            ("events", DetainerEvent),
            ("notices", Notice),
            ("audit", AuditEntry),
        )
    }
