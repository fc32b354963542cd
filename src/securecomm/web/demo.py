"""A demo store for the web portals: a small synthetic world through the real pipeline, and a
user for every role (issue 10 item 5: "a newcomer clicks through every portal in two minutes").

What :func:`seed_demo` leaves in the store
    * the synthetic world's jurisdictions and repositories (``interop.synthetic_world``), its
      bookings dated over the last :data:`DAYS` days;
    * most bookings processed with simulated officers accepting (detainers lodged), the last
      :data:`WAITING` share processed with none (cases on the officers' worklist);
    * some detainers with a release-eligible time reported (clocks running, one overdue);
    * one safeguard override waiting for a supervisor;
    * users for every role (``DEMO_USERS``) in the busiest jurisdiction and its ICE area of
      responsibility, and an API key for the booking system.

Everything goes through the domain services (intake, worker, field office, lifecycle, users):
the demo is the real pipeline on synthetic data. The demo passwords are public: never seed a
demo into a store holding real data (seeding refuses a store that already holds a world).
"""

from __future__ import annotations

import collections
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ..interop import field_office, lifecycle
from ..interop.adapters import agencies_for
from ..interop.intake import submit_bookings
from ..interop.settings import load_settings
from ..interop.synthetic_world import WorldSpec, generate_world, seed_world
from ..interop.worker import run_worker
from ..law.schema import Action
from ..store.db import make_engine, session_factory, upgrade
from ..store.models import (
    CaseRecord,
    CaseState,
    DecisionRecord,
    Detainer,
    DetainerState,
    Jurisdiction,
)

DAYS = 60
#: how long ago the older bookings' detainers were lodged (longer than the overdue clock's
#: release-eligible offset in :func:`_start_clocks`)
EARLY = dt.timedelta(days=11)
WAITING = 0.25
DEMO_PASSWORD = "demo-password"  # public by design: a demo store holds synthetic data only

#: name -> role; jurisdictions / areas are filled from the world (the busiest jurisdiction).
DEMO_USERS = (
    ("police.demo", "lea"),
    ("booking.system", "lea_system"),
    ("officer.demo", "ice_officer"),
    ("officer.two", "ice_officer"),
    ("supervisor.demo", "ice_supervisor"),
    ("crcl.demo", "crcl"),
    ("panel.demo", "panel"),
    ("admin.demo", "admin"),
)


@dataclass
class DemoReport:
    url: str
    ori: str
    area: str | None
    other_ori: str | None
    users: list[dict[str, Any]] = field(default_factory=list)
    api_key: str | None = None
    counts: dict[str, int] = field(default_factory=dict)


def _world(today: dt.date, persons: int, bookings: int, seed: int):
    spec = WorldSpec(persons=persons, bookings=bookings, seed=seed, share_ident=0.55,
                     share_lookalike=0.0, no_template_rate=0.0,
                     start=today - dt.timedelta(days=DAYS), end=today - dt.timedelta(days=1))  # fmt: skip
    return generate_world(spec)


def seed_demo(
    url: str,
    *,
    data_dir: Path,
    users: Any,
    aor_of_county: Any,
    persons: int = 300,
    bookings: int = 240,
    seed: int = 2011,
    now: dt.datetime | None = None,
) -> DemoReport:
    """Seed the demo into the (empty) store at ``url``; see the module docstring."""
    now = now or dt.datetime.now(dt.UTC)
    upgrade(url)
    engine = make_engine(url)
    sf = session_factory(engine)
    settings = load_settings(data_dir=Path(data_dir))
    world = _world(now.date(), persons, bookings, seed)
    with sf() as s, s.begin():
        seed_world(s, world)
    agencies = agencies_for(engine.url, settings)
    if agencies.immigration.biographic_model is not None:
        # the worker refuses to run without it (securecomm.preflight): train it on the seeded
        # IDENT encounters, as `securecomm world seed` does
        with sf() as s:
            agencies.immigration.train_model(s)
    lines = list(world.booking_lines())
    cut = int(len(lines) * (1 - WAITING))
    # Bookings older than EARLY are decided and their detainers lodged EARLY ago, so that the
    # detainer clocks can show an overdue hold: a release-eligible time before the detainer
    # was issued is refused (lifecycle), and the clocks are read against the real time.
    early_at = now - EARLY
    early = [ln for ln in lines[:cut] if _booked_at(ln) < early_at]
    recent = [ln for ln in lines[:cut] if _booked_at(ln) >= early_at]
    submit_bookings(sf, early, source="demo")
    run_worker(engine, settings=settings, agencies=agencies, auto_accept=True,
               clock=lambda: early_at)  # fmt: skip
    submit_bookings(sf, recent, source="demo")
    run_worker(engine, settings=settings, agencies=agencies, auto_accept=True, clock=lambda: now)
    submit_bookings(sf, lines[cut:], source="demo")
    run_worker(engine, settings=settings, agencies=agencies, auto_accept=False, clock=lambda: now)

    busiest = collections.Counter(b["ori"] for b in world.bookings).most_common()
    ori = busiest[0][0]
    with sf() as s:
        fips = {j.ori: j.county_fips for j in s.scalars(select(Jurisdiction))}
    area = aor_of_county(fips[ori]) if fips.get(ori) else None
    other = next((o for o, _ in busiest[1:] if aor_of_county(fips.get(o) or "") != area), None)
    report = DemoReport(url=url, ori=ori, area=area, other_ori=other)

    from ..users.service import ADMIN_CLI_ACTOR

    with sf() as s, s.begin():
        # the administrator first (added by the command line), then the others by them
        ordered = sorted(DEMO_USERS, key=lambda u: u[1] != "admin")
        admin = next(name for name, role in ordered if role == "admin")
        for name, role in ordered:
            kw: dict[str, Any] = {}
            if role in ("lea", "lea_system"):
                kw["jurisdictions"] = (ori,)
            if role in ("ice_officer", "ice_supervisor"):
                kw["areas"] = (area,) if area else ()
            actor = ADMIN_CLI_ACTOR if name == admin else admin
            users.add_user(s, name, role, password=DEMO_PASSWORD, actor=actor, **kw)
            report.users.append({"name": name, "role": role, "password": DEMO_PASSWORD, **kw})
        report.api_key = users.issue_api_key(s, "booking.system", actor=admin)

    _start_clocks(sf, ori, now)
    _safeguard_override(sf, ori, now)
    with sf() as s:
        report.counts = {
            state.value: len(s.scalars(select(CaseRecord.case_id).where(
                CaseRecord.state == state, CaseRecord.ori == ori)).all())
            for state in CaseState
        }  # fmt: skip
    engine.dispose()
    return report


def _booked_at(line: str) -> dt.datetime:
    return dt.datetime.fromisoformat(json.loads(line)["booked_at"])


def _start_clocks(sf, ori: str, now: dt.datetime) -> None:
    """Report release-eligible times on a few active detainers of ``ori``: one long ago
    (overdue), one about two business days ago (due soon), the others recent."""
    offsets = (dt.timedelta(days=9), dt.timedelta(hours=46), dt.timedelta(hours=3))
    with sf() as s, s.begin():
        ds = list(s.scalars(
            select(Detainer).where(Detainer.ori == ori, Detainer.state == DetainerState.active,
                                   Detainer.release_eligible_at.is_(None))
            .order_by(Detainer.issued_at, Detainer.id)
        ))  # fmt: skip
        for back in offsets:
            # the oldest detainer issued before that release-eligible time (never before it)
            at = now - back
            d = next((d for d in ds if d.issued_at <= at), None)
            if d is None:
                continue
            ds.remove(d)
            lifecycle.report_release_eligible(s, d.id, at=at, actor="police.demo")


def _safeguard_override(sf, ori: str, now: dt.datetime) -> None:
    """One officer override that removes a safeguard (to a detainer where the recommendation
    was no detainer), so the supervisor's queue is not empty."""
    from ..law.schema import Decision

    with sf() as s, s.begin():
        rows = s.execute(
            select(CaseRecord.case_id, DecisionRecord.decision)
            .join(DecisionRecord, DecisionRecord.case_id == CaseRecord.case_id)
            .where(CaseRecord.ori == ori, CaseRecord.state == CaseState.awaiting_officer)
            .order_by(CaseRecord.case_id)
        ).all()
        for case_id, doc in rows:
            decision = Decision.model_validate(doc)
            if Action(decision.action) is Action.detainer:
                continue
            if field_office.safeguards_removed(decision, Action.detainer, override=True):
                field_office.decide(
                    s, case_id, officer="officer.two", override=Action.detainer,
                    reason="Demo: the officer believes the person is a public-safety risk.",
                    at=now,
                )  # fmt: skip
                return
