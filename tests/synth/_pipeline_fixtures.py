"""Hand-built synthetic nation tables (the nation-table contract) and pipeline backends for the
``synth`` / ``stats.from_store`` tests. Synthetic data only: names from short lists, dates drawn.

``make_nation(n_persons, seed=...)`` builds a nation table of 1-3 bookings per person in the
exact layout of the contract (flat caseload columns + the nation's own columns). The mix covers
every path the pipeline has: IDENT matches and misses, false matches (automatic and band),
FBI records with convictions and warrants, naturalisation between bookings, final orders and
removals, conditional-detainer charges, jurisdictions that do not honor detainers or disclose
nothing. Only facts the pipeline can represent are drawn unless ``unrepresentable=True``.

``pg_url()`` gives a fresh PostgreSQL schema (or skips), like ``tests/interop/conftest.py``.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
from sqlalchemy import make_url, text

from securecomm.law.flatten import OFFENSE_FIELDS, arrow_schema

UTC = dt.UTC
PG_DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

# ori, name, state, fips, zone, disclosure, honors detainers
JURIS = [
    ("TX2270000", "Travis County Sheriff (synthetic)", "TX", "48453", "America/Chicago", "full", True),
    ("CA0190000", "Los Angeles County Sheriff (synthetic)", "CA", "06037", "America/Los_Angeles",
     "public_safety_only", False),
    ("NY0303000", "New York City Police (synthetic)", "NY", "36061", "America/New_York", "none", True),
    ("HI0020000", "Honolulu Police (synthetic)", "HI", "15003", "Pacific/Honolulu", "full", True),
]  # fmt: skip
CHARGES = [
    ("5499", "DRIVING WITHOUT A LICENSE", "misdemeanor"), ("5499", "SPEEDING", "infraction"),
    ("5311", "DISORDERLY CONDUCT", "misdemeanor"), ("5707", "TRESPASSING", "misdemeanor"),
    ("2303", "SHOPLIFTING", "misdemeanor"), ("1313", "SIMPLE ASSLT", "misdemeanor"),
    ("5404", "DRIVING UNDER INFLUENCE ALCOHOL", "misdemeanor"), ("3530", "COCAINE - SELL", "felony"),
    ("2202", "BURGL - FORCED ENTRY-RESID", "felony"), ("1314", "AGGRAV ASSLT - GUN", "felony"),
]  # fmt: skip
CONVICTIONS = [
    ("5499", "DRIVING WITHOUT A LICENSE", "misdemeanor", 5), ("5404", "DUI", "misdemeanor", 30),
    ("2303", "SHOPLIFTING", "misdemeanor", 10), ("3532", "COCAINE - POSSESS", "felony", 365),
    ("2202", "BURGLARY - RESIDENCE", "felony", 730), ("1206", "ROBBERY", "felony", 1460),
    ("1313", "SIMPLE ASSAULT", "misdemeanor", 60),
]  # fmt: skip
STATUSES = ["entered_without_inspection", "visa_overstay", "lawful_permanent_resident",
            "naturalized_citizen", "nonimmigrant_visa", "refugee_asylee", "parolee", "unknown"]  # fmt: skip
FIRST = ["JOSE", "MARIA", "LUIS", "ANA", "WEI", "OMAR", "ROSA", "JOHN", "FATIMA", "PEDRO"]
LAST = ["GARCIA", "LOPEZ", "NGUYEN", "SMITH", "KHAN", "REYES", "OKAFOR", "GARCIA LOPEZ"]


def offense(**kw: Any) -> dict[str, Any]:
    out = {k: None for k in OFFENSE_FIELDS}
    out.update(injury=False, domestic_violence=False, suspended=False, gang_element=False,
               from_current_charge=False)  # fmt: skip
    out.update(kw)
    return out


def nation_schema() -> pa.Schema:
    extra = [
        ("tcn", pa.string()), ("person_id", pa.int64()), ("booked_at", pa.timestamp("us", tz="UTC")),
        ("month", pa.date32()), ("jurisdiction_name", pa.string()), ("first_name", pa.string()),
        ("last_name", pa.string()), ("sex", pa.string()), ("race", pa.string()),
        ("ethnicity", pa.string()), ("place_of_birth", pa.string()), ("true_status", pa.string()),
        ("naturalized_on", pa.date32()), ("ident_enrolled", pa.bool_()), ("ident_match", pa.bool_()),
        ("false_match", pa.bool_()), ("fbi_record", pa.bool_()), ("prior_arrests", pa.int32()),
        ("usc_family", pa.bool_()), ("release_eligible_at", pa.timestamp("us", tz="UTC")),
        ("charge_category", pa.string()), ("conviction_status", pa.string()),
    ]  # fmt: skip
    base = arrow_schema()
    return pa.schema(list(base) + [pa.field(n, t) for n, t in extra])


def _date(rng: random.Random, lo: dt.date, hi: dt.date) -> dt.date:
    return lo + dt.timedelta(days=rng.randrange(max((hi - lo).days, 1)))


def make_nation(
    n_persons: int = 60,
    *,
    seed: int = 1,
    start: dt.date = dt.date(2012, 3, 1),
    days: int = 60,
    unrepresentable: bool = False,
) -> pa.Table:
    """A nation table of ``n_persons`` people (1-3 bookings each)."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for pid in range(n_persons):
        kinds = ["ident", "ident_miss", "fbi_only", "never", "false", "band"]
        # the first six persons cover every kind; the rest are drawn
        kind = (
            kinds[pid] if pid < len(kinds) else rng.choices(kinds, weights=[50, 5, 15, 15, 4, 3])[0]
        )
        enrolled = kind in ("ident", "ident_miss")
        fbi = (
            kind == "fbi_only"
            or (enrolled and rng.random() < 0.5)
            or (kind in ("false", "band") and rng.random() < 0.5)
        )
        ori, jname, state, fips, zone, disc, honors = rng.choice(JURIS)
        dob = _date(rng, dt.date(1960, 1, 1), dt.date(1993, 1, 1))
        status = rng.choice(STATUSES) if kind in ("ident", "ident_miss", "false", "band") else (
            "us_citizen_by_birth"
        )  # fmt: skip
        entered = _date(rng, dob + dt.timedelta(days=400), dt.date(2011, 6, 1))
        entry = {"entered_without_inspection": "without_inspection", "unknown": "unknown"}.get(
            status, "inspected"
        )
        lpr = (
            _date(rng, entered, dt.date(2011, 12, 1))
            if status in ("lawful_permanent_resident", "naturalized_citizen")
            else None
        )
        naturalized = _date(rng, lpr, start) if status == "naturalized_citizen" and lpr else None
        final_order = (
            _date(rng, entered, start - dt.timedelta(days=10))
            if status in ("entered_without_inspection", "visa_overstay") and rng.random() < 0.2
            else None
        )
        removals = rng.choice([0, 0, 0, 1, 2]) if enrolled else 0
        relief = {k: rng.random() < 0.05 for k in ("u_visa", "t_visa", "vawa", "asylum")}
        convictions = []
        if fbi:
            for c in range(rng.choice([0, 1, 1, 2, 3])):
                ncic, lit, sev, sentence = rng.choice(CONVICTIONS)
                convictions.append(offense(
                    ncic=ncic, literal=lit, severity=sev, disposition="convicted",
                    sentence_days=sentence, counsel=rng.choice(["none", "appointed", "retained"]),
                    convicted_on=_date(rng, dt.date(2003, 1, 1), start - dt.timedelta(days=30)),
                    incident_key=f"inc-{pid}-{c}", gang_element=rng.random() < 0.05,
                    aggravated_felony=None,
                ))  # fmt: skip
        warrant = fbi and rng.random() < 0.15
        first, last = rng.choice(FIRST), rng.choice(LAST)
        n_book = rng.choice([1, 1, 1, 2, 3])
        day0 = rng.randrange(days - 5)
        upgrade_status = status == "lawful_permanent_resident" and n_book > 1 and rng.random() < 0.5
        for b in range(n_book):
            zone_info = ZoneInfo(zone)
            local = dt.datetime.combine(
                start + dt.timedelta(days=min(day0 + 2 * b, days - 1)),
                dt.time(rng.randrange(24), rng.randrange(60)), zone_info,
            )  # fmt: skip
            booked = local.astimezone(UTC)
            decided_on = local.date()
            row_status = status
            row_natz = naturalized
            if upgrade_status and b > 0:  # naturalised between the bookings
                row_status, row_natz = "naturalized_citizen", decided_on - dt.timedelta(days=1)
            n_ch = rng.choice([1, 1, 2])
            charges = []
            for _ in range(n_ch):
                ncic, lit, sev = rng.choice(CHARGES)
                charges.append(offense(ncic=ncic, literal=lit, severity=sev, disposition="pending"))
            if unrepresentable and rng.random() < 0.3:
                charges[0]["disposition"] = "convicted"
            flags = {f"flag_{f}": False for f in (
                "national_security", "gang_member", "outstanding_criminal_warrant",
                "serious_public_safety_risk", "crime_victim", "crime_witness",
                "domestic_violence_victim", "civil_rights_plaintiff", "veteran_or_armed_forces",
                "armed_forces_family", "us_citizen_or_lpr_family", "primary_caretaker",
                "pregnant_or_nursing", "serious_health_condition", "in_school_or_graduate",
                "indigent", "apprehended_at_border")}  # fmt: skip
            flags["flag_gang_member"] = any(c["gang_element"] for c in convictions)
            flags["flag_outstanding_criminal_warrant"] = warrant
            if unrepresentable and rng.random() < 0.3:
                flags["flag_crime_victim"] = True
            row_conv = [dict(c) for c in convictions]
            for c in charges:
                if c["disposition"] == "convicted":
                    row_conv.append({**c, "incident_key": "#current-arrest",
                                     "from_current_charge": True})  # fmt: skip
            tcn = f"N{seed}-{pid:05d}-{b}"
            rows.append({
                "case_id": tcn, "decided_on": decided_on, "program": "secure_communities",
                "jurisdiction_ori": ori, "jurisdiction_state": state,
                "jurisdiction_county_fips": fips, "jurisdiction_timezone": zone,
                "jurisdiction_disclosure": disc, "jurisdiction_honors_detainers": honors,
                "person_birth_date": dob, "person_citizenship_status": row_status,
                "person_entered_us_on": entered if status != "unknown" else None,
                "person_entry": entry, "person_lpr_since": lpr,
                **{f"person_relief_{k}": v for k, v in relief.items()},
                "person_final_order_on": final_order,
                "person_removal_count": removals,
                "person_immigration_fraud": False, "person_visa_abuse": False,
                **flags, "charges": charges, "convictions": row_conv,
                "tcn": tcn, "person_id": 1000 + pid, "booked_at": booked,
                "month": decided_on.replace(day=1), "jurisdiction_name": jname,
                "first_name": first, "last_name": last, "sex": rng.choice("MF"),
                "race": rng.choice("WBAIU"), "ethnicity": rng.choice("HNU"),
                "place_of_birth": "MX" if kind != "fbi_only" else "US",
                "true_status": "us_citizen_by_birth" if kind in ("false", "band") else row_status,
                "naturalized_on": row_natz, "ident_enrolled": enrolled,
                "ident_match": kind in ("ident", "false"), "false_match": kind in ("false", "band"),
                "fbi_record": fbi, "prior_arrests": len(convictions) + rng.choice([0, 0, 1]),
                "usc_family": False,
                "release_eligible_at": booked + dt.timedelta(hours=rng.randrange(6, 24 * 20)),
                "charge_category": "other_misdemeanor", "conviction_status": "convicted"
                if row_conv else ("charged_only" if fbi else "no_criminal_history"),
            })  # fmt: skip
    return pa.Table.from_pylist(rows, schema=nation_schema())


def pg_url() -> str:
    """A fresh schema on the test PostgreSQL server (dropped by :func:`drop_pg`), or skip."""
    from securecomm.store.db import make_engine

    admin_url = os.environ.get("SECURECOMM_TEST_POSTGRES_URL", "").strip() or PG_DEFAULT_URL
    admin = make_engine(make_url(admin_url).update_query_dict({"connect_timeout": "5"}))
    schema = f"sc_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        admin.dispose()
        if os.environ.get("SECURECOMM_REQUIRE_POSTGRES", "").strip() in ("1", "true", "yes"):
            pytest.fail(f"SECURECOMM_REQUIRE_POSTGRES=1 but PostgreSQL unreachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    admin.dispose()
    url = make_url(admin_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def drop_pg(url: str) -> None:
    from securecomm.store.db import make_engine

    u = make_url(url)
    schema = str(u.query["options"]).split("=", 1)[1]
    admin_url = os.environ.get("SECURECOMM_TEST_POSTGRES_URL", "").strip() or PG_DEFAULT_URL
    admin = make_engine(admin_url)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def build_store(
    nation: pa.Table,
    url: str,
    data_dir,
    *,
    policy: str = "tfsc-2011",
    seed: int = 5,
    auto_accept: bool = True,
):
    """Seed the nation's world into the (fresh) database at ``url`` and run its bookings
    through the pipeline; returns ``(engine, world, settings)``. The caller disposes."""
    from securecomm.interop.settings import PipelineSettings
    from securecomm.interop.synthetic_world import seed_world
    from securecomm.store.db import make_engine, session_factory, upgrade
    from securecomm.synth.pipeline_run import process_bookings
    from securecomm.synth.to_world import world_from_nation

    world = world_from_nation(nation, seed=seed)
    engine = make_engine(url)
    upgrade(engine=engine)
    with session_factory(engine)() as s, s.begin():
        seed_world(s, world)
    settings = PipelineSettings(
        policy_entries=((dt.date(1900, 1, 1), policy),), data_dir=data_dir, auto_accept=True
    )
    # few ticks: each costs a worker run; the lifecycle tests need issue times near booking
    process_bookings(engine, world.bookings, settings, auto_accept=auto_accept, max_ticks=8)
    return engine, world, settings
