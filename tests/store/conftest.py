"""Store test fixtures: every store test runs on every backend (SQLite and PostgreSQL).

The backend fixtures (``backend``, ``db``, ``fresh_url``) come from the shared plugin
``tests/db_backends.py`` (registered in ``tests/conftest.py``); this file adds ``seed``.

Backends and isolation
    ``sqlite``: a database file in a pytest temporary directory.
    ``postgresql``: the server at ``SECURECOMM_TEST_POSTGRES_URL`` (default
    ``postgresql+psycopg://postgres@127.0.0.1:5432/test``); each database a test needs is a
    freshly created, uniquely named schema (``sc_test_<hex>``) selected through the URL
    (``?options=-csearch_path=<schema>``), so the Alembic version table lands in it too. All
    schemas this run created are dropped at the end of the session.
    If PostgreSQL cannot be reached its tests are skipped, unless
    ``SECURECOMM_REQUIRE_POSTGRES=1`` (CI), in which case they fail with the reason.

Fixtures
    ``backend`` (session, parametrized ``sqlite`` / ``postgresql``): a database migrated to
    head, shared by the tests of that backend; :class:`Backend` gives ``url``, ``engine``,
    ``session()``, ``reset()``.
    ``db``: the ``backend`` emptied before the test (every table, audit head back to size 0).
    ``fresh_url``: a factory of brand-new *empty* databases of the same backend (for migration
    tests); ``fresh_url()`` -> URL string.
    ``seed``: helpers that insert a jurisdiction and build Case v1 / Decision v1 objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from db_backends import Backend

# --------------------------------------------------------------------------- domain helpers

ORI = "CO0010000"
OTHER_ORI = "TX2270000"
T0 = datetime(2011, 10, 3, 16, 0, tzinfo=UTC)


def case_document(case_id: str = "case-1", ori: str = ORI, **person: Any) -> dict[str, Any]:
    """A minimal valid Case v1 (a person who entered without inspection, one traffic charge)."""
    return {
        "case_id": case_id,
        "decided_at": "2011-10-03T10:00:00-06:00",
        "program": "secure_communities",
        "jurisdiction": {
            "ori": ori,
            "state": ori[:2],
            "timezone": "America/Denver",
            "disclosure": "full",
            "honors_detainers": True,
        },
        "person": {
            "birth_date": "1990-05-01",
            "citizenship_status": "entered_without_inspection",
            "entered_us_on": "1991-06-01",
            "entry": "without_inspection",
            **person,
        },
        "arrest": {
            "arrested_at": "2011-10-02T22:00:00-06:00",
            "charges": [
                {"ncic": "5499", "literal": "DRIVING WITHOUT A LICENSE", "severity": "misdemeanor"}
            ],
        },
    }


@dataclass
class Seed:
    """Insert reference rows and build exchange-format documents for store tests."""

    ori: str = ORI
    other_ori: str = OTHER_ORI
    t0: datetime = T0

    def jurisdictions(self, session: Session) -> None:
        from securecomm.store.repositories import upsert_jurisdiction

        upsert_jurisdiction(
            session, ORI, state="CO", timezone="America/Denver", county_fips="08001"
        )
        upsert_jurisdiction(
            session, OTHER_ORI, state="TX", timezone="America/Chicago", disclosure="none"
        )

    def case(self, case_id: str = "case-1", ori: str = ORI, **person: Any) -> dict[str, Any]:
        return case_document(case_id, ori, **person)

    def decision(self, case: dict[str, Any], pack: str = "tfsc-2011"):
        from securecomm.law.engine import CompiledPack
        from securecomm.law.packs import PACKS
        from securecomm.law.schema import Case

        return CompiledPack(PACKS[pack]).decide(Case.model_validate(case))


@pytest.fixture
def seed(db: Backend) -> Seed:
    """Jurisdictions inserted (committed) in the emptied database."""
    s = Seed()
    with db.session() as session, session.begin():
        s.jurisdictions(session)
    return s
