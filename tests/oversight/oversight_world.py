"""A small store world for the oversight tests, built through the pipeline's own services
(imported by name: tests are not a package).

Five jurisdictions in five states, ``n`` cases booked in 2012-Q3, each decided by the
``tfsc-2011`` pack (the real engine), then acted on by officers through the field office:
most accepted, some overridden (a safeguard override waits for a supervisor, who approves or
denies), detainers lodged through the lifecycle, some held past the limit (custody after
``hold_until``), one lifted because the person turned out to be a US citizen.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

UTC = dt.UTC
JURISDICTIONS = {
    # ori: (state, timezone, county FIPS)
    "NY0300000": ("NY", "America/New_York", "36061"),
    "CO0010000": ("CO", "America/Denver", "08031"),
    "TX2270000": ("TX", "America/Chicago", "48201"),
    "AZ0070000": ("AZ", "America/Phoenix", "04013"),
    "HI0020000": ("HI", "Pacific/Honolulu", "15003"),
}
ORIS = list(JURISDICTIONS)
LOITERING = {"ncic": "5311", "literal": "LOITERING", "severity": "misdemeanor"}
NO_LICENSE = {"ncic": "5499", "literal": "DRIVING WITHOUT A LICENSE", "severity": "misdemeanor"}
ASSAULT = {"ncic": "1399", "literal": "AGGRAVATED ASSAULT", "severity": "felony"}
PROGRAMS = ["secure_communities", "secure_communities", "287g", "criminal_alien_program"]
Q3_START = dt.datetime(2012, 7, 2, 15, 0, tzinfo=UTC)  # a Monday
T_AFTER = dt.datetime(2012, 10, 15, 12, 0, tzinfo=UTC)


@dataclass
class StoreWorld:
    case_ids: list[str] = field(default_factory=list)
    overrides: list[str] = field(default_factory=list)
    safeguard_overrides: list[str] = field(default_factory=list)
    approved: list[str] = field(default_factory=list)
    held_past: list[str] = field(default_factory=list)
    citizen_lifted: list[str] = field(default_factory=list)
    undecided: list[str] = field(default_factory=list)
    final_action: dict[str, str] = field(default_factory=dict)


def _document(i: int, ori: str, program: str) -> dict[str, Any]:
    state, zone, _fips = JURISDICTIONS[ori]
    charges = [[LOITERING], [NO_LICENSE], [ASSAULT], [ASSAULT, LOITERING]][i % 4]
    status = "lawful_permanent_resident" if i % 9 == 4 else "entered_without_inspection"
    return {
        "case_id": f"C-OV{i:04d}",
        "decided_at": (Q3_START + dt.timedelta(days=2 * i)).isoformat(),
        "program": program,
        "jurisdiction": {"ori": ori, "state": state, "timezone": zone},
        "person": {
            "birth_date": f"{1950 + (i * 7) % 45}-0{1 + i % 9}-15",
            "citizenship_status": status,
            "entered_us_on": "2004-06-01",
            "entry": "without_inspection",
        },
        "arrest": {
            "arrested_at": (Q3_START + dt.timedelta(days=2 * i, hours=-6)).isoformat(),
            "charges": [dict(c) for c in charges],
        },
    }


#: the officers and the supervisor who act in :func:`build`
FIELD_OFFICE_USERS = ("officer-0", "officer-1", "officer-2", "supervisor-1")


def build(session: Session, n: int = 36) -> StoreWorld:
    """Seed ``n`` cases (at least 12) into an empty migrated store; returns what was made."""
    from securecomm.interop import field_office, lifecycle
    from securecomm.law.engine import CompiledPack
    from securecomm.law.packs import PACKS
    from securecomm.law.schema import Case
    from securecomm.store import repositories as r
    from securecomm.store.models import CaseState, DetainerKind
    from securecomm.users.service import ADMIN_CLI_ACTOR, add_user

    pack = CompiledPack(PACKS["tfsc-2011"])
    world = StoreWorld()
    # the field office acts only as registered users (issue 9 item 2)
    for name in FIELD_OFFICE_USERS:
        role = "ice_supervisor" if name.startswith("supervisor") else "ice_officer"
        add_user(session, name, role, areas=["NYC"], actor=ADMIN_CLI_ACTOR)
    for ori, (state, zone, fips) in JURISDICTIONS.items():
        r.upsert_jurisdiction(session, ori, state=state, timezone=zone, name=f"County {ori}",
                              county_fips=fips)  # fmt: skip
    for i in range(n):
        # NY and TX are the big jurisdictions, HI the small one
        ori = ORIS[[0, 0, 0, 2, 2, 1, 3, 0, 2, 4][i % 10]]
        doc = _document(i, ori, PROGRAMS[i % 4])
        case_id = doc["case_id"]
        decided_at = dt.datetime.fromisoformat(doc["decided_at"])
        submission, _ = r.submit_submission(
            session, f"TCN-OV{i:04d}", ori, {"case": case_id}, decided_at - dt.timedelta(hours=3)
        )
        r.open_case(session, doc, opened_at=decided_at - dt.timedelta(hours=1),
                    submission_id=submission.id)  # fmt: skip
        decision = pack.decide(Case.model_validate(doc))
        r.record_decision(session, case_id, decision, decided_at=decided_at)
        r.set_case_state(session, case_id, CaseState.awaiting_officer)
        world.case_ids.append(case_id)
        if i == n - 1:  # still waiting for an officer: not a decided case
            world.undecided.append(case_id)
            continue
        at = decided_at + dt.timedelta(hours=2 + i % 5)
        officer = f"officer-{i % 3}"
        rec = decision.action.value
        if i % 6 == 5 and rec == "no_detainer":
            # override against a no-detainer recommendation: removes a safeguard
            out = field_office.decide(session, case_id, officer=officer, override="detainer",
                                      reason="prior removal on file", at=at)  # fmt: skip
            world.overrides.append(case_id)
            if out.state is CaseState.awaiting_supervisor:
                world.safeguard_overrides.append(case_id)
                deny = i % 12 == 11
                field_office.approve(session, case_id, supervisor="supervisor-1", deny=deny,
                                     reason="checked" if deny else None,
                                     at=at + dt.timedelta(hours=1))  # fmt: skip
                if not deny:
                    world.approved.append(case_id)
                    world.final_action[case_id] = "detainer"
            else:
                world.final_action[case_id] = "detainer"
        elif i % 7 == 3 and rec == "detainer":
            field_office.decide(session, case_id, officer=officer,
                                override="notification_request", reason="cooperating witness",
                                at=at)  # fmt: skip
            world.overrides.append(case_id)
            world.final_action[case_id] = "notification_request"
        else:
            field_office.decide(session, case_id, officer=officer, accept=True, at=at)
            world.final_action[case_id] = rec
        if world.final_action.get(case_id) == "detainer":
            d = lifecycle.lodge(session, case_id=case_id, officer_action_id=None, ori=ori,
                                kind=DetainerKind.detainer, issued_at=at + dt.timedelta(hours=3),
                                actor="ero-officer", policy="tfsc-2011")  # fmt: skip
            eligible = at + dt.timedelta(days=1)
            lifecycle.report_release_eligible(session, d.id, at=eligible, actor="lea")
            if len(world.citizen_lifted) < 1 and i % 4 == 2:
                lifecycle.lift(session, d.id, at=eligible + dt.timedelta(hours=5),
                               actor="ero-officer",
                               reason="LESC: US citizen by birth (birth certificate verified)")  # fmt: skip
                world.citizen_lifted.append(case_id)
            elif i % 2 == 0:
                # custody a week later: past the 48 business hours (IV rec. 5)
                lifecycle.assume_custody(session, d.id, at=eligible + dt.timedelta(days=7),
                                         actor="ero-officer")  # fmt: skip
                world.held_past.append(case_id)
            else:
                lifecycle.assume_custody(session, d.id, at=eligible + dt.timedelta(hours=20),
                                         actor="ero-officer")  # fmt: skip
    session.flush()
    return world


#: registered users of the oversight CLI tests: name -> (role, areas)
USERS = {
    "crcl-intake": ("crcl", ()),
    "crcl-1": ("crcl", ()),
    "investigator-2": ("crcl", ()),
    "panel-chair": ("panel", ()),
    "panelist-1": ("panel", ()),
    "ero-1": ("ice_officer", ("NYC",)),
}


def register_users(db) -> None:
    from securecomm.users.service import ADMIN_CLI_ACTOR, add_user

    with db.session() as session, session.begin():
        for name, (role, areas) in USERS.items():
            add_user(session, name, role, areas=areas, actor=ADMIN_CLI_ACTOR)
