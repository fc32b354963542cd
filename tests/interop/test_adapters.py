"""Adapters: protocols, persisted galleries (rebuild, freshness, damage), aliases, RAP sheets."""

from __future__ import annotations

import datetime as dt

import numpy as np
from sqlalchemy import insert, select

from securecomm.interop.adapters import (
    CriminalHistoryRepository,
    ImmigrationRepository,
    StatusDetermination,
    TemplateGallery,
    template_bytes,
)
from securecomm.interop.messages import TEMPLATE_DIM
from securecomm.store.models import Biometric


def test_synthetic_adapters_satisfy_the_protocols(world):
    a = world.agencies()
    assert isinstance(a.criminal_history, CriminalHistoryRepository)
    assert isinstance(a.immigration, ImmigrationRepository)
    assert isinstance(a.status, StatusDetermination)


def _enrolment(world, fin: str) -> np.ndarray:
    row = next(b for b in world.world.imm_biometrics if b["fin"] == fin)
    return np.frombuffer(row["template"], dtype="<f4")


def test_gallery_is_persisted_and_reloaded(world):
    a = world.agencies()
    ident = a.galleries[0]
    fin = world.world.imm_subjects[5]["fin"]
    with world.session() as s:
        [r] = a.immigration.search(s, _enrolment(world, fin)[None, :])
    assert r.decision == "match" and r.key == fin and r.score > 0.99
    assert ident.path.is_file() and ident.state_path.is_file()
    # a new process (new adapters) loads the saved file instead of rebuilding
    before = ident.path.stat().st_mtime_ns
    again = world.agencies().galleries[0]
    with world.session() as s:
        assert again.ensure(s).count == len(world.world.imm_subjects)
    assert ident.path.stat().st_mtime_ns == before


def test_gallery_rebuilds_when_the_table_changes_or_the_file_is_damaged(world):
    a = world.agencies()
    ident = a.galleries[0]
    with world.session() as s:
        ident.ensure(s)
    # a new capture of an enrolled person replaces their template in the gallery
    fin = world.world.imm_subjects[3]["fin"]
    rng = np.random.default_rng(1)
    new = rng.standard_normal(TEMPLATE_DIM).astype(np.float32)
    with world.session() as s, s.begin():
        s.execute(
            insert(Biometric).values(
                fin=fin, model="synthetic-ten-print-64", dim=TEMPLATE_DIM, template=template_bytes(new),
                captured_at=dt.datetime(2011, 9, 1, tzinfo=dt.UTC),
            )
        )  # fmt: skip
    with world.session() as s:
        [r] = a.immigration.search(s, new[None, :])
        assert r.decision == "match" and r.key == fin
        assert ident.ensure(s).count == len(world.world.imm_subjects)  # still one per person
    # a damaged index file is rebuilt, never trusted
    ident.path.write_bytes(b"garbage")
    fresh = TemplateGallery(ident.path, Biometric, ident.policy)
    with world.session() as s:
        assert fresh.ensure(s).count == len(world.world.imm_subjects)


def test_aliases_are_every_name_used(world):
    a = world.agencies()
    multi = {}
    for e in world.world.imm_encounters:
        multi.setdefault(e["fin"], set()).add(f"{e['given_names']} {e['family_name']}")
    fin = next(f for f, names in multi.items() if len(names) >= 2)
    with world.session() as s:
        names = a.immigration.aliases(s, [fin])[fin]
    assert {n.casefold() for n in multi[fin]} <= {n.casefold() for n in names}
    assert len(names) == len({n.casefold() for n in names})


def test_rap_sheet_as_of_a_date(world):
    a = world.agencies()
    subject = next(
        c["fbi_number"] for c in world.world.ch_convictions
        if sum(x["fbi_number"] == c["fbi_number"] for x in world.world.ch_convictions) >= 2
    )  # fmt: skip
    dates = sorted(
        c["convicted_on"] for c in world.world.ch_convictions if c["fbi_number"] == subject
    )
    with world.session() as s:
        early, late = a.criminal_history.history(
            s, [(subject, dates[0]), (subject, dt.date(2012, 1, 1))]
        )
    assert len(early.convictions) == sum(d <= dates[0] for d in dates)
    assert len(late.convictions) == len(dates)
    with world.session() as s:
        [nobody] = a.criminal_history.history(s, [("NOBODY", dt.date(2012, 1, 1))])
    assert nobody.fbi_number is None and not nobody.convictions


def test_status_of_an_unknown_fin_is_none(world):
    with world.session() as s:
        assert world.agencies().status.determine(s, [("0", dt.date(2012, 1, 1))]) == [None]


def test_biometric_table_rows_match_the_gallery(world):
    with world.session() as s:
        n = len(s.scalars(select(Biometric.id)).all())
    assert n == len(world.world.imm_subjects)
