"""Shared fixtures and builders of the detainer-lifecycle and notice tests (no tests here).

``tests/interop/conftest.py`` belongs to the pipeline tests, so these fixtures live in a module
of their own, loaded by file path from ``test_lifecycle*.py`` and ``test_notices*.py`` (see
their ``_support()``); that works whatever pytest's import mode and whether or not
``tests/interop`` becomes a package.

Backends follow ``tests/store/conftest.py``: SQLite (a file in a temporary directory) and
PostgreSQL (``SECURECOMM_TEST_POSTGRES_URL``, default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``; a fresh ``lc_test_<hex>`` schema, dropped
at exit). PostgreSQL unreachable -> its tests skip, or fail when
``SECURECOMM_REQUIRE_POSTGRES=1``. One database per backend is shared by all the modules
(migrated once); ``lc_db`` empties it before each test.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, make_url, select, text
from sqlalchemy.orm import Session

from securecomm.store.audit import GENESIS_HASH
from securecomm.store.db import make_engine, session_factory, upgrade
from securecomm.store.models import (
    AuditEntry,
    Base,
    Booking,
    CaseRecord,
    Charge,
    Detainer,
    DetainerEvent,
    Notice,
)

PG_DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgresql")

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


def _require_postgres() -> bool:
    return os.environ.get("SECURECOMM_REQUIRE_POSTGRES", "").strip() in ("1", "true", "yes")


# --------------------------------------------------------------------------- backends


@dataclass
class Backend:
    name: str
    url: str
    engine: Engine

    def session(self) -> Session:
        return session_factory(self.engine)()

    def reset(self) -> None:
        tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
        with self.engine.begin() as conn:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))
            conn.execute(
                text("INSERT INTO audit_head (id, size, last_hash) VALUES (1, 0, :h)"),
                {"h": GENESIS_HASH},
            )


_BACKENDS: dict[str, Backend] = {}
_CLEANUP: list = []


def _cleanup() -> None:
    for action in reversed(_CLEANUP):
        with contextlib.suppress(Exception):  # best effort at interpreter exit
            action()


atexit.register(_cleanup)


def get_backend(name: str) -> Backend:
    """The shared, migrated database of backend ``name`` (created on first use)."""
    if name in _BACKENDS:
        return _BACKENDS[name]
    if name == "sqlite":
        directory = tempfile.mkdtemp(prefix="securecomm-lifecycle-")
        _CLEANUP.append(lambda: shutil.rmtree(directory, ignore_errors=True))
        url = f"sqlite:///{directory}/lifecycle.db"
    else:
        admin_url = os.environ.get("SECURECOMM_TEST_POSTGRES_URL", "").strip() or PG_DEFAULT_URL
        admin = make_engine(make_url(admin_url).update_query_dict({"connect_timeout": "5"}))
        schema = f"lc_test_{uuid.uuid4().hex[:12]}"
        try:
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        except Exception as exc:
            admin.dispose()
            message = f"PostgreSQL not reachable at {make_url(admin_url).render_as_string()}: {exc}"
            if _require_postgres():
                pytest.fail(f"SECURECOMM_REQUIRE_POSTGRES=1 but {message}", pytrace=False)
            pytest.skip(message)

        def drop() -> None:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()

        _CLEANUP.append(drop)
        url = (
            make_url(admin_url)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    upgrade(url)
    engine = make_engine(url)
    _CLEANUP.append(engine.dispose)
    _BACKENDS[name] = Backend(name, url, engine)
    return _BACKENDS[name]


@pytest.fixture(params=BACKENDS)
def lc_db(request: pytest.FixtureRequest) -> Backend:
    """An emptied, migrated database of each backend."""
    backend = get_backend(request.param)
    backend.reset()
    return backend


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
