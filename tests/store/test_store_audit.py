"""The audit log: hash chain, serialised appends, checkpoints, proofs, and every kind of tampering
detected with the first bad seq named -- on both backends."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from securecomm.store import audit, merkle
from securecomm.store.errors import AuditError, InputError
from securecomm.store.models import AuditEntry
from securecomm.store.types import canonical_json

T0 = datetime(2011, 10, 3, 16, 0, tzinfo=UTC)
N = 12
COLUMNS = (
    "recorded_at",
    "actor",
    "event_type",
    "case_id",
    "subject",
    "payload",
    "prev_hash",
    "entry_hash",
)


def _fill(db, n: int = N, start: int = 0) -> None:
    with db.session() as s, s.begin():
        for i in range(start, start + n):
            audit.append(
                s,
                "decision.recorded" if i % 2 else "detainer.issued",
                actor=f"officer-{i % 3}",
                subject={"case_id": f"case-{i % 4}", "decision_id": i},
                payload={"i": i, "text": "ünïcödé ✓", "nested": {"b": [1, 2], "a": None}},
                recorded_at=T0 + timedelta(seconds=i, microseconds=i),
            )


def _verify(db, **kw) -> audit.VerifyReport:
    with db.session() as s:
        return audit.verify(s, **kw)


def _exec(db, sql: str, **params) -> None:
    with db.engine.begin() as conn:
        conn.execute(text(sql), params)


def _row(db, seq: int) -> dict:
    with db.engine.connect() as conn:
        return dict(
            conn.execute(text("SELECT * FROM audit_log WHERE seq = :s"), {"s": seq})
            .mappings()
            .one()
        )


def _checkpoint(db, **kw):
    with db.session() as s, s.begin():
        return audit.checkpoint(s, **kw)


def _assert_tampered(report: audit.VerifyReport, seq: int | None, kind: str) -> None:
    assert not report.ok
    first = report.first_problem
    assert (first.seq, first.kind) == (seq, kind), report.problems
    assert report.first_bad_seq == seq
    assert "TAMPERED" in report.summary() and kind in report.summary()


# --------------------------------------------------------------------------- intact log


def test_empty_log_verifies(db):
    report = _verify(db)
    assert report.ok and report.entries == 0
    assert report.root_hash == merkle.EMPTY_ROOT.hex()


def test_chain_is_the_documented_formula(db):
    _fill(db)
    with db.session() as s:
        entries = s.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    prev = audit.GENESIS_HASH
    for expected_seq, e in enumerate(entries, start=1):
        assert e.seq == expected_seq
        assert e.prev_hash == prev
        assert e.subject == canonical_json(json.loads(e.subject))
        body = canonical_json(
            {
                "actor": e.actor,
                "case_id": e.case_id,
                "event_type": e.event_type,
                "payload": json.loads(e.payload),
                "recorded_at": e.recorded_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "seq": e.seq,
                "subject": json.loads(e.subject),
            }
        )
        assert e.entry_hash == hashlib.sha256(bytes.fromhex(prev) + body.encode()).hexdigest()
        prev = e.entry_hash
    report = _verify(db)
    assert report.ok, report.problems
    assert report.entries == N and report.head_size == N
    leaves = [merkle.leaf_hash(bytes.fromhex(e.entry_hash)) for e in entries]
    assert report.root_hash == merkle.root(leaves).hex()
    with db.session() as s:
        timeline = audit.list_entries(s, case_id="case-1")
        assert [e.seq for e in timeline] == [2, 6, 10]
        assert [e.seq for e in audit.list_entries(s, after_seq=10)] == [11, 12]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"actor": ""}, "actor"),
        ({"actor": "a" * 129}, "actor"),
        ({"event_type": "Decision Recorded"}, "event_type"),
        ({"subject": {"Case": "x"}}, "subject"),
        ({"subject": {"case_id": ["x"]}}, "subject.case_id"),
        ({"subject": {"case_id": "x" * 65}}, "subject.case_id"),
        ({"payload": {"x": float("nan")}}, "payload.x"),
        ({"payload": {"x": "\ud800"}}, "payload.x"),
        ({"recorded_at": datetime(2011, 1, 1)}, "recorded_at"),
    ],
)
def test_append_rejects_bad_entries_naming_the_field(db, kwargs, field):
    args = {"event_type": "decision.recorded", "actor": "me", **kwargs}
    event_type = args.pop("event_type")
    with db.session() as s, s.begin(), pytest.raises(InputError) as info:
        audit.append(s, event_type, **args)
    assert info.value.field == field
    assert _verify(db).entries == 0


def test_rolled_back_append_leaves_no_trace(db):
    _fill(db, 3)
    with db.session() as s:
        s.begin()
        audit.append(s, "decision.recorded", actor="x")
        s.rollback()
    _fill(db, 2, start=3)
    report = _verify(db)
    assert report.ok and report.entries == 5


@pytest.mark.parametrize("threads", [4])
def test_concurrent_appends_have_no_gaps_and_no_forks(db, threads):
    per_thread = 25
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def worker(k: int) -> None:
        try:
            barrier.wait(timeout=10)
            for i in range(per_thread):
                with db.session() as s, s.begin():
                    audit.append(s, "test.concurrent", actor=f"thread-{k}", payload={"i": i})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=120)
    assert not errors, errors
    report = _verify(db)
    assert report.ok, report.problems
    total = threads * per_thread
    assert report.entries == report.head_size == total
    with db.engine.connect() as conn:
        seqs = [r[0] for r in conn.execute(text("SELECT seq FROM audit_log ORDER BY seq"))]
        per_actor = dict(
            conn.execute(text("SELECT actor, count(*) FROM audit_log GROUP BY actor")).all()
        )
        prevs = conn.execute(text("SELECT count(DISTINCT prev_hash) FROM audit_log")).scalar_one()
    assert seqs == list(range(1, total + 1))
    assert per_actor == {f"thread-{k}": per_thread for k in range(threads)}
    assert prevs == total  # no two entries share a predecessor: no fork


# --------------------------------------------------------------------------- tampering


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("payload", '{"i":4,"text":"edited"}'),
        ("actor", "someone-else"),
        ("event_type", "decision.overridden"),
        ("subject", '{"case_id":"case-0","decision_id":999}'),
        ("case_id", "case-3"),
    ],
)
def test_edited_entry_is_detected(db, column, value):
    _fill(db)
    _exec(db, f"UPDATE audit_log SET {column} = :v WHERE seq = 5", v=value)
    report = _verify(db)
    _assert_tampered(report, 5, "content_edited")
    assert len(report.problems) == 1


def test_edited_timestamp_is_detected(db):
    _fill(db)
    _exec(
        db,
        "UPDATE audit_log SET recorded_at = :t WHERE seq = 7",
        t=T0 if db.name == "postgresql" else "2011-10-03 16:00:00.000000",
    )
    _assert_tampered(_verify(db), 7, "content_edited")


@pytest.mark.parametrize("seq", [1, 5, N - 1])
def test_deleted_entry_is_detected(db, seq):
    _fill(db)
    _exec(db, "DELETE FROM audit_log WHERE seq = :s", s=seq)
    report = _verify(db)
    _assert_tampered(report, seq, "gap")
    assert f"entries {seq}..{seq}" in report.first_problem.detail


def test_deleted_last_entry_is_detected_by_the_head(db):
    _fill(db)
    _exec(db, "DELETE FROM audit_log WHERE seq = :s", s=N)
    _assert_tampered(_verify(db), N, "truncated")


@pytest.mark.parametrize(("a", "b"), [(4, 8), (4, 5), (1, N)])
def test_reordered_entries_are_detected(db, a, b):
    """Swap the whole contents of two rows (everything but seq)."""
    _fill(db)
    ra, rb = _row(db, a), _row(db, b)
    sets = ", ".join(f"{c} = :{c}" for c in COLUMNS)
    _exec(db, "UPDATE audit_log SET entry_hash = :tmp WHERE seq = :s", tmp="f" * 64, s=a)
    _exec(db, f"UPDATE audit_log SET {sets} WHERE seq = :seq", seq=b, **{c: ra[c] for c in COLUMNS})
    _exec(db, f"UPDATE audit_log SET {sets} WHERE seq = :seq", seq=a, **{c: rb[c] for c in COLUMNS})
    report = _verify(db)
    _assert_tampered(report, a, "reordered")
    assert {p.seq for p in report.problems} >= {a, b}
    assert "moved or swapped" in " ".join(p.detail for p in report.problems)


def test_swapped_payloads_are_detected(db):
    _fill(db)
    pa, pb = _row(db, 3)["payload"], _row(db, 9)["payload"]
    _exec(db, "UPDATE audit_log SET payload = :p WHERE seq = 3", p=pb)
    _exec(db, "UPDATE audit_log SET payload = :p WHERE seq = 9", p=pa)
    report = _verify(db)
    _assert_tampered(report, 3, "content_edited")
    assert [p.seq for p in report.problems] == [3, 9]


@pytest.mark.parametrize("seq", [5, N])
def test_edited_hash_is_detected(db, seq):
    _fill(db)
    _exec(
        db,
        "UPDATE audit_log SET entry_hash = :h WHERE seq = :s",
        h=hashlib.sha256(b"forged").hexdigest(),
        s=seq,
    )
    report = _verify(db)
    _assert_tampered(report, seq, "entry_hash_edited")


def test_edited_prev_hash_is_detected(db):
    _fill(db)
    _exec(db, "UPDATE audit_log SET prev_hash = :h WHERE seq = 6", h="a" * 64)
    _assert_tampered(_verify(db), 6, "chain_break")


def test_rewritten_entry_with_recomputed_hash_breaks_the_next_link(db):
    _fill(db)
    r = _row(db, 5)
    with db.session() as s:
        e = s.get(AuditEntry, 5)
        payload = '{"forged":true}'
        body = audit.entry_body(
            e.seq, e.recorded_at, e.actor, e.event_type, e.case_id, e.subject, payload
        )
        forged = audit.compute_entry_hash(r["prev_hash"], body)
    _exec(
        db, "UPDATE audit_log SET payload = :p, entry_hash = :h WHERE seq = 5", p=payload, h=forged
    )
    report = _verify(db)
    _assert_tampered(report, 6, "chain_break")
    assert "entry 5" in report.first_problem.detail


def _rewrite_from(db, seq: int) -> None:
    """An attacker who knows the algorithm rewrites entries seq.. and the head consistently."""
    with db.session() as s, s.begin():
        entries = s.scalars(
            select(AuditEntry).where(AuditEntry.seq >= seq).order_by(AuditEntry.seq)
        ).all()
        prev = s.get(AuditEntry, seq - 1).entry_hash if seq > 1 else audit.GENESIS_HASH
        for e in entries:
            e.payload = '{"rewritten":true}' if e.seq == seq else e.payload
            e.prev_hash = prev
            e.entry_hash = audit.compute_entry_hash(
                prev,
                audit.entry_body(
                    e.seq,
                    e.recorded_at,
                    e.actor,
                    e.event_type,
                    e.case_id,
                    e.subject,
                    e.payload,
                    e.rows,
                ),
            )
            prev = e.entry_hash
            s.flush()
        # a thorough attacker also drops the Merkle compact range the head keeps (the next
        # append rebuilds it from the rewritten entries)
        s.execute(text("UPDATE audit_head SET last_hash = :h, frontier = NULL"), {"h": prev})


def test_consistent_rewrite_is_caught_by_a_checkpoint(db):
    _fill(db)
    _checkpoint(db)
    _rewrite_from(db, 4)
    report = _verify(db)
    assert not report.ok
    assert [p.kind for p in report.problems] == ["checkpoint_mismatch"]
    assert f"first {N} entries" in report.problems[0].detail


def test_truncated_tail_relative_to_the_last_checkpoint(db):
    _fill(db)
    _checkpoint(db)
    last_kept = _row(db, N - 3)["entry_hash"]
    _exec(db, "DELETE FROM audit_log WHERE seq > :s", s=N - 3)
    _exec(db, "UPDATE audit_head SET size = :n, last_hash = :h", n=N - 3, h=last_kept)
    report = _verify(db)
    _assert_tampered(report, N - 2, "truncated")
    assert f"checkpoint of {N} entries" in report.first_problem.detail


def test_entry_slipped_in_beyond_the_head(db):
    _fill(db)
    r = _row(db, N)
    _exec(
        db,
        "INSERT INTO audit_log (seq, recorded_at, actor, event_type, case_id, subject, payload,"
        " prev_hash, entry_hash) VALUES (:seq, :recorded_at, 'x', 'x', NULL, '{}', '{}', :p, :h)",
        seq=N + 1,
        recorded_at=r["recorded_at"],
        p=r["entry_hash"],
        h="b" * 64,
    )
    _assert_tampered(_verify(db), N + 1, "unrecorded_entry")


# --------------------------------------------------------------------------- checkpoints


def test_checkpoints_prove_the_log_only_grew(db):
    _fill(db, 5)
    cp5 = _checkpoint(db)
    _fill(db, 8, start=5)
    cp13 = _checkpoint(db)
    assert (cp5.tree_size, cp13.tree_size) == (5, 13)
    assert _checkpoint(db).id == cp13.id  # idempotent at the same size
    report = _verify(db)
    assert report.ok and report.checkpoints_checked == 2
    with db.session() as s:
        proof = [bytes.fromhex(p) for p in audit.consistency_proof(s, 5, 13)]
    assert merkle.verify_consistency(
        5, 13, bytes.fromhex(cp5.root_hash), bytes.fromhex(cp13.root_hash), proof
    )


def test_checkpoint_refuses_a_tampered_log(db):
    _fill(db)
    _exec(db, "UPDATE audit_log SET payload = '{}' WHERE seq = 2")
    with pytest.raises(AuditError, match="seq 2"):
        _checkpoint(db)


def test_checkpoint_signatures(db):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from securecomm.store import treeheads

    key = Ed25519PrivateKey.generate()
    _fill(db)
    cp = _checkpoint(db, key=key)
    assert cp.key_id == treeheads.key_id(key.public_key())
    signed = treeheads.signed_bytes(
        cp.tree_size, cp.root_hash, treeheads.timestamp_ms(cp.created_at)
    )
    key.public_key().verify(__import__("base64").b64decode(cp.signature), signed)  # raises if bad
    assert _verify(db, key=key.public_key()).ok
    assert not _verify(db, key=Ed25519PrivateKey.generate().public_key()).ok
    _exec(db, "UPDATE audit_checkpoints SET root_hash = :r", r="c" * 64)
    kinds = {p.kind for p in _verify(db, key=key.public_key()).problems}
    assert kinds == {"checkpoint_signature", "checkpoint_mismatch"}


def test_trusted_heads_kept_outside_catch_a_rewrite_of_everything(db):
    from securecomm.store import treeheads

    _fill(db)
    kept = audit.head_of(_checkpoint(db)).to_json()
    head = treeheads.SignedTreeHead.from_json(kept)
    _exec(db, "DELETE FROM audit_checkpoints")
    _rewrite_from(db, 1)
    assert _verify(db).ok  # nothing left inside the database to tell
    report = _verify(db, trusted_heads=[head])
    assert [p.kind for p in report.problems] == ["checkpoint_mismatch"]


# --------------------------------------------------------------------------- inclusion proofs


def test_inclusion_proofs_for_every_entry(db):
    _fill(db, 13)
    cp = _checkpoint(db)
    _fill(db, 3, start=13)
    with db.session() as s:
        for seq in range(1, 17):
            proof = audit.inclusion_proof(s, seq)
            assert proof.tree_size == 16
            assert audit.verify_entry_inclusion(proof)
        for seq in range(1, 14):  # against the older signed tree head
            proof = audit.inclusion_proof(s, seq, tree_size=cp.tree_size)
            assert proof.root_hash == cp.root_hash
            assert audit.verify_entry_inclusion(proof, cp.root_hash)
            assert not audit.verify_entry_inclusion(proof, "0" * 64)
        with pytest.raises(AuditError):
            audit.inclusion_proof(s, 17)
        with pytest.raises(AuditError):
            audit.inclusion_proof(s, 14, tree_size=13)
