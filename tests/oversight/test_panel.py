"""The panel's sample (IV rec. 6): frame, reproducible draw, verify, sizes, de-identified
cases, findings and the report. Store-backed tests run on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json

import consistent_sampler
import pytest
from cryptorandom.cryptorandom import int_from_hash
from oversight_world import T_AFTER
from sqlalchemy import select

from securecomm.oversight import panel
from securecomm.store.audit import verify as verify_log
from securecomm.store.models import AuditEntry, PanelFrame


def _frame_bytes(n: int = 200) -> bytes:
    lines = ["case_id,size_class,action,program"]
    for i in range(n):
        lines.append(f"C-{i:05d},{['small', 'medium', 'large'][i % 3]},"
                     f"{['detainer', 'no_detainer'][i % 2 if i % 5 else 0]},secure_communities")  # fmt: skip
    return ("\n".join(lines) + "\n").encode()


def test_sizes():
    assert panel.size_for_detection(0.05, 0.95) == 59
    assert panel.size_for_margin(0.05, 0.95) == 385
    assert panel.size_for_margin(0.05, 0.95, population=1000) == 278
    with pytest.raises(panel.PanelError, match="--defect-rate"):
        panel.size_for_detection(1.5, 0.95)


def test_draw_is_consistent_sampler_alone():
    frame = _frame_bytes()
    doc = panel.draw(frame, seed="01382438112797316654", size=25)
    ids = [r["case_id"] for r in csv.DictReader(io.StringIO(frame.decode()))]
    expected = list(consistent_sampler.sampler(ids, "01382438112797316654", take=25, output="id"))
    assert [s["case_id"] for s in doc["sample"]] == expected


def test_tickets_cross_checked_with_cryptorandom():
    """A ticket is SHA-256(SHA-256(seed) || id) as a decimal integer, digits reversed:
    cryptorandom's int_from_hash reads the same integer from the hash."""
    seed = "314159"
    doc = panel.draw(_frame_bytes(30), seed=seed, size=30)
    seed_hash = hashlib.sha256(seed.encode()).hexdigest()
    for s in doc["sample"]:
        h = hashlib.sha256((seed_hash + s["case_id"]).encode())
        digits = f"{int_from_hash(h.digest()):064d}"[::-1]
        assert ("0." + digits).startswith(s["ticket"])
    tickets = [s["ticket"] for s in doc["sample"]]
    assert tickets == sorted(tickets)


def test_stratified_draw_filters_the_unstratified_order():
    frame = _frame_bytes()
    whole = panel.draw(frame, seed="dice-4-2-6", size=200)
    strat = panel.draw(frame, seed="dice-4-2-6", size=30, stratify_by=["size_class"])
    assert sum(s["sample"] for s in strat["strata"]) == 30
    # the stratum's cases are exactly the first n_h of the unstratified order in that stratum,
    # computed with consistent_sampler alone
    size_of = {r["case_id"]: r["size_class"] for r in csv.DictReader(io.StringIO(frame.decode()))}
    alone = list(consistent_sampler.sampler(list(size_of), "dice-4-2-6", output="id"))
    assert alone == [s["case_id"] for s in whole["sample"]]
    for stratum in strat["strata"]:
        first = [c for c in alone if size_of[c] == stratum["stratum"]]
        picked = [s["case_id"] for s in strat["sample"] if s["stratum"] == stratum["stratum"]]
        assert picked == first[: stratum["sample"]]


def test_allocation_proportional_and_neyman():
    counts = {"a": 600, "b": 300, "c": 100}
    assert panel.allocate(counts, 100, "proportional") == {"a": 60, "b": 30, "c": 10}
    ney = panel.allocate(counts, 100, "neyman", {"a": 0.01, "b": 0.5, "c": 0.5})
    assert sum(ney.values()) == 100 and ney["b"] > 30 and ney["a"] < 60
    capped = panel.allocate({"a": 3, "b": 300}, 50, "proportional")
    assert capped == {"a": 1, "b": 49} or sum(capped.values()) == 50
    assert panel.allocate({"a": 3, "b": 4}, 50, "proportional") == {"a": 3, "b": 4}
    with pytest.raises(panel.PanelError, match="--allocation"):
        panel.allocate(counts, 10, "optimal")


def test_verify_detects_tampering():
    frame = _frame_bytes()
    doc = panel.draw(frame, seed="abc", size=10, stratify_by=["action"], allocation="neyman")
    assert panel.verify(frame, doc) == (True, [])
    tampered = json.loads(json.dumps(doc))
    tampered["sample"][3]["case_id"] = "C-99999"
    ok, problems = panel.verify(frame, tampered)
    assert not ok and "position 4" in problems[0]
    ok, problems = panel.verify(frame.replace(b"C-00007", b"C-70007"), doc)
    assert not ok and problems[0].startswith("frame: SHA-256")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"id,action\nC-1,x\n", "no case_id column"),
        (b"case_id,action\nC-1,x\nC-1,y\n", "line 3: case_id 'C-1' appears twice"),
        (b"case_id,action\n,x\n", "line 2: empty case_id"),
        (b"case_id\n", "no cases"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_bad_frames_are_named(data, message):
    with pytest.raises(panel.PanelError, match=message):
        panel.draw(data, seed="s", size=1)


def test_bad_draw_arguments():
    frame = _frame_bytes(10)
    with pytest.raises(panel.PanelError, match="--stratify-by"):
        panel.draw(frame, seed="s", size=3, stratify_by=["race"])
    with pytest.raises(panel.PanelError, match="--size"):
        panel.draw(frame, seed="s", size=0)
    with pytest.raises(panel.PanelError, match="--seed"):
        panel.draw(frame, seed=" ", size=3)


# --------------------------------------------------------------------------- with the store


def _published(db, world, key=None):
    with db.session() as s, s.begin():
        frame = panel.build_frame(s, "2012-Q3")
        published = panel.publish_frame(s, frame, actor="panel-chair", key=key, at=T_AFTER)
    return frame, published


def test_published_tree_head_is_signed_and_checkable(store_world):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from securecomm.store.treeheads import SignedTreeHead

    db, world = store_world
    key = Ed25519PrivateKey.generate()
    _frame, published = _published(db, world, key=key)
    head = SignedTreeHead.from_dict(published["tree_head"])
    assert head.verify_signature(key.public_key())
    assert not head.verify_signature(Ed25519PrivateKey.generate().public_key())
    with db.session() as s:
        row = s.scalars(select(PanelFrame)).one()
        assert row.signature == head.signature and row.tree_size == head.tree_size


def test_frame_holds_every_decided_case_of_the_period(store_world):
    db, world = store_world
    frame, published = _published(db, world)
    ids = [r["case_id"] for r in frame.rows]
    assert ids == sorted(
        set(world.case_ids)
        - set(world.undecided)
        - set(c for c in world.safeguard_overrides if c not in world.approved)
    )
    assert {r["size_class"] for r in frame.rows} == {"small", "medium", "large"}
    big = {r["size_class"] for r in frame.rows if r["case_id"] == "C-OV0000"}
    assert big == {"large"}  # NY has most bookings
    for r in frame.rows:
        assert r["action"] == world.final_action[r["case_id"]]
    assert published["frame_sha256"] == hashlib.sha256(frame.csv_bytes).hexdigest()
    assert published["tree_head"]["tree_size"] > 0
    with db.session() as s:
        assert verify_log(s).ok
        assert panel.build_frame(s, "2012-Q4").rows == ()


def test_draw_recorded_deidentified_findings_and_report(store_world, tmp_path):
    db, world = store_world
    frame, _published_doc = _published(db, world)
    doc = panel.draw(frame.csv_bytes, seed="20121015", size=8, stratify_by=["size_class"])
    with db.session() as s, pytest.raises(panel.PanelError, match="never published"):
        other = panel.draw(frame.csv_bytes + b"C-X,small,detainer,287g\n", seed="1", size=2)
        panel.record_draw(s, frame.csv_bytes + b"C-X,small,detainer,287g\n", other,
                          actor="panel-chair", at=T_AFTER)  # fmt: skip
    with db.session() as s, s.begin():
        d = panel.record_draw(s, frame.csv_bytes, doc, actor="panel-chair",
                              at=T_AFTER + dt.timedelta(hours=1))  # fmt: skip
        draw_id = d.id
        names = _pseudonyms(s, draw_id)
    assert len(set(names)) == 8
    with db.session() as s:
        view = panel.deidentified_case(s, draw_id, names[0])
    text = json.dumps(view)
    for secret in [
        "C-OV",
        "TCN-",
        "NY0300000",
        "CO0010000",
        "TX2270000",
        "AZ0070000",
        "HI0020000",
        "birth_date",
        "prior removal on file",
        "cooperating witness",
    ]:
        assert secret not in text
    assert view["person"]["age_band"] and [c["id"] for c in view["checklist"]] == [
        "priority",
        "rule_followed",
        "discretion_considered",
        "disclosure_right",
        "hold_within_limit",
    ]
    answers = {c["id"]: "yes" for c in view["checklist"]}
    with db.session() as s, pytest.raises(panel.PanelError, match="contradicts"):
        panel.record_finding(s, draw_id, names[0], reviewer="panelist-1",
                             answers={**answers, "hold_within_limit": "no"}, finding="adherent")  # fmt: skip
    with db.session() as s, pytest.raises(panel.PanelError, match="missing"):
        panel.record_finding(
            s, draw_id, names[0], reviewer="panelist-1", answers={}, finding="adherent"
        )
    with db.session() as s, s.begin():
        f = panel.record_finding(s, draw_id, names[0], reviewer="panelist-1",
                                 answers={**answers, "hold_within_limit": "no"}, finding="deviation",
                                 note="held a week", at=T_AFTER + dt.timedelta(days=1))  # fmt: skip
        panel.record_finding(s, draw_id, names[1], reviewer="panelist-1", answers=answers,
                             finding="adherent", at=T_AFTER + dt.timedelta(days=1))  # fmt: skip
        fid = f.id
    with db.session() as s:
        report = panel.findings_report(s, draw_id)
    assert report.summary["reviewed"] == 2 and report.summary["with_deviation"] == 1
    assert report.summary["deviations_awaiting_ice_response"] == 1
    with db.session() as s, s.begin():
        panel.record_response(s, fid, responder="ero-hq", response="Retraining ordered",
                              corrective_action=True, at=T_AFTER + dt.timedelta(days=3))  # fmt: skip
    with db.session() as s:
        report = panel.findings_report(s, draw_id)
        assert report.summary["deviations_awaiting_ice_response"] == 0
        paths = panel.write_findings_report(report, tmp_path)
        events = [e.event_type for e in s.query(AuditEntry).order_by(AuditEntry.seq)]
        assert verify_log(s).ok
    assert {
        "panel.frame_published",
        "panel.draw_recorded",
        "panel.finding_recorded",
        "panel.response_recorded",
    } <= set(events)
    html = paths["html"].read_text()
    assert "Retraining ordered" in html and "C-OV" not in html and doc["sample_sha256"] in html
    rows = list(csv.DictReader(paths["cases"].open()))
    assert len(rows) == 8 and not any("C-OV" in json.dumps(r) for r in rows)


def _pseudonyms(session, draw_id):
    from sqlalchemy import select

    from securecomm.store.models import PanelSampleCase

    return list(session.scalars(
        select(PanelSampleCase.pseudonym).where(PanelSampleCase.draw_id == draw_id)
        .order_by(PanelSampleCase.position)
    ))  # fmt: skip
