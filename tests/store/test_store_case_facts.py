"""Case facts (``case_facts``, migration 0004): validated, append-only (the latest row per
case and fact is in force), audited one entry per fact; case documents replaced with an
audited hash change; the migration up and down. Every test on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from securecomm.store import audit
from securecomm.store.db import (
    alembic_config,
    current_revision,
    head_revision,
    make_engine,
    upgrade,
)
from securecomm.store.errors import InputError
from securecomm.store.models import (
    CASE_FACT_NAMES,
    REPOSITORY_FLAGS,
    AuditEntry,
    CaseFact,
)
from securecomm.store.repositories import (
    CaseFactToRecord,
    case_facts_in_force,
    get_case,
    list_case_facts,
    open_case,
    record_case_fact,
    record_case_facts,
    update_case_document,
)

SRC = "Form I-918 Supplement B, Denver PD (synthetic)"


def test_facts_are_appended_and_the_latest_is_in_force(db, seed):
    t = seed.t0
    with db.session() as s, s.begin():
        record_case_facts(
            s,
            [
                CaseFactToRecord("C-1", "crime_victim", True, SRC, "officer.a", t),
                CaseFactToRecord("C-1", "indigent", True, "interview", "officer.a", t),
                CaseFactToRecord("C-2", "crime_witness", True, SRC, "officer.b", t),
            ],
        )
        # a retraction is a new row; nothing is updated
        record_case_fact(s, "C-1", "crime_victim", False, source="certification withdrawn",
                         recorded_by="officer.b", recorded_at=t + timedelta(hours=1))  # fmt: skip
    with db.session() as s:
        assert case_facts_in_force(s, ["C-1", "C-2", "C-3"]) == {
            "C-1": {"crime_victim": False, "indigent": True},
            "C-2": {"crime_witness": True},
        }
        rows = list_case_facts(s, "C-1")
        assert [(r.fact, r.value, r.recorded_by) for r in rows] == [
            ("crime_victim", True, "officer.a"), ("indigent", True, "officer.a"),
            ("crime_victim", False, "officer.b"),
        ]  # fmt: skip
        assert s.scalar(select(func.count()).select_from(CaseFact)) == 4
        entries = s.scalars(
            select(AuditEntry).where(AuditEntry.event_type == "case.fact_recorded")
        ).all()
        assert len(entries) == 4  # one leaf per fact
        assert {e.case_id for e in entries} == {"C-1", "C-2"}
        assert all('"source":' in e.payload for e in entries)
        assert audit.verify(s).ok


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"fact": "crime_victm"}, "fact"),
        ({"fact": "gang_member"}, "fact"),
        ({"fact": None}, "fact"),
        ({"value": "true"}, "value"),
        ({"value": 0}, "value"),
        ({"value": None}, "value"),
        ({"source": ""}, "source"),
        ({"source": " \t"}, "source"),
        ({"source": "x" * 501}, "source"),
        ({"source": None}, "source"),
        ({"recorded_by": ""}, "recorded_by"),
        ({"case_id": ""}, "case_id"),
        ({"recorded_at": "2011-10-03"}, "recorded_at"),
    ],
)
def test_bad_facts_are_refused_naming_the_field(db, seed, change, field):
    item = {"case_id": "C-1", "fact": "crime_victim", "value": True, "source": SRC,
            "recorded_by": "officer.a", "recorded_at": seed.t0, **change}  # fmt: skip
    good = CaseFactToRecord("C-1", "indigent", True, "interview", "officer.a", seed.t0)
    with db.session() as s, s.begin():
        with pytest.raises(InputError) as exc:
            record_case_facts(s, [good, CaseFactToRecord(**item)])
        assert exc.value.field == field
        # nothing of the batch was written, and nothing audited
        assert s.scalar(select(func.count()).select_from(CaseFact)) == 0
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 0


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.text(max_size=50),
    value=st.one_of(st.booleans(), st.integers(), st.none(), st.text(max_size=5)),
    source=st.text(max_size=20),
)
def test_any_input_is_stored_only_when_valid(db, seed, name, value, source):
    valid = (
        name in CASE_FACT_NAMES and isinstance(value, bool) and bool(source.strip())
        and "\x00" not in source
    )  # fmt: skip
    with db.session() as s, s.begin():
        try:
            (fact_id,) = record_case_facts(
                s, [CaseFactToRecord("C-h", name, value, source, "officer.h", seed.t0)]
            )
        except InputError as exc:
            assert not valid or exc.field == "source", (name, value, source, exc)
            assert exc.field in {"fact", "value", "source"}
            return
        assert valid or name not in REPOSITORY_FLAGS
        row = s.get(CaseFact, fact_id)
        assert (row.fact, row.value, row.source) == (name, value, source.strip())
        s.rollback()


def test_the_database_refuses_a_bad_fact_written_around_the_store(db, seed):
    for fact, source in (("gang_member", SRC), ("crime_victim", "")):
        with db.session() as s, pytest.raises(IntegrityError), s.begin():
            s.add(CaseFact(case_id="C-1", fact=fact, value=True, source=source,
                           recorded_by="x", recorded_at=seed.t0))  # fmt: skip


def test_a_case_document_is_replaced_with_an_audited_hash_change(db, seed):
    doc = seed.case("C-9")
    with db.session() as s, s.begin():
        row, _ = open_case(s, doc, opened_at=seed.t0)
        old = row.case_sha256
        flagged = {**doc, "flags": {"crime_victim": True}}
        row, changed = update_case_document(s, "C-9", flagged, actor="officer.a", at=seed.t0,
                                            reason="victim certification")  # fmt: skip
        assert changed and row.case_sha256 != old
        _, again = update_case_document(s, "C-9", flagged, actor="officer.a", at=seed.t0,
                                        reason="victim certification")  # fmt: skip
        assert not again
        with pytest.raises(InputError, match=r"case\.case_id"):
            update_case_document(s, "C-9", seed.case("C-8"), actor="a", at=seed.t0, reason="r")
    with db.session() as s:
        assert get_case(s, "C-9").case_json["flags"]["crime_victim"] is True
        [entry] = s.scalars(
            select(AuditEntry).where(AuditEntry.event_type == "case.document_updated")
        ).all()
        assert entry.case_id == "C-9" and old in entry.payload
        assert audit.verify(s).ok


def test_migration_0004_up_and_down(fresh_url):
    url = fresh_url()
    assert upgrade(url, "0003") == "0003"
    engine = make_engine(url)
    insert = (
        "INSERT INTO case_facts (case_id, fact, value, source, recorded_by, recorded_at) "
        "VALUES ('C-1', :f, true, :s, 'officer.a', '2011-10-03 16:00:00+00:00')"
    )
    try:
        assert upgrade(engine=engine, revision="0004") == "0004"
        with engine.begin() as conn:
            conn.execute(text(insert), {"f": "crime_victim", "s": SRC})
        for f, src in (("national_security", SRC), ("crime_victim", "")):
            with pytest.raises(IntegrityError), engine.begin() as conn:
                conn.execute(text(insert), {"f": f, "s": src})
        with pytest.raises(RuntimeError, match="case_facts holds 1 fact"):
            command.downgrade(alembic_config(engine), "0003")
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM case_facts"))
        command.downgrade(alembic_config(engine), "0003")
        assert current_revision(engine=engine) == "0003"
        with engine.connect() as conn, pytest.raises(Exception):  # noqa: B017 - table is gone
            conn.execute(text("SELECT COUNT(*) FROM case_facts"))
        assert upgrade(engine=engine) == head_revision()
    finally:
        engine.dispose()
