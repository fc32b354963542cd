"""The audit log proves the data (issue 9 item 1), on SQLite and PostgreSQL.

Every attack of issue 9 is performed directly on the database, as someone with write access to
it would, and each is detected: by ``verify --data`` (a row edited, deleted or inserted outside
the store) or by ``verify --since`` a signed tree head kept outside the database (the whole log
rewritten with every hash recomputed, or truncated with the head row fixed up).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

import pytest
import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, text
from typer.testing import CliRunner

from securecomm.store import audit, rowstate, treeheads
from securecomm.store.commands import audit_app
from securecomm.store.dataverify import verify_data, verify_since
from securecomm.store.models import AuditCheckpoint, AuditEntry, DecisionRecord
from securecomm.store.repositories import (
    add_detainer_event,
    create_notice,
    issue_detainer,
    mark_notice_delivered,
    open_case,
    record_case_fact,
    record_decision,
    record_officer_action,
)
from securecomm.users import service as users

T0 = datetime(2011, 10, 3, 16, 0, tzinfo=UTC)


@pytest.fixture
def key(tmp_path, monkeypatch):
    """A signing key configured the way a deployment does (a 0600 PEM file)."""
    path, _pub, _ = treeheads.generate_key(tmp_path / "audit.key")
    monkeypatch.setenv(treeheads.ENV_SIGNING_KEY, str(path))
    monkeypatch.delenv(treeheads.ENV_PUBLIC_KEY, raising=False)
    return treeheads.load_private_key(str(path))


@pytest.fixture
def world(db, seed, key):
    """Two cases with a decision each, an officer action, a detainer with a lifecycle event,
    notices, a case fact and users: every audited table has rows."""
    with db.session() as s, s.begin():
        ids = {}
        for n in (1, 2):
            case = seed.case(f"case-{n}")
            open_case(s, case, opened_at=T0)
            row, _ = record_decision(s, f"case-{n}", seed.decision(case), decided_at=T0)
            ids[f"decision{n}"] = row.id
        action = record_officer_action(
            s, "case-1", "override", officer="o.ruiz", acted_at=T0, decision_id=ids["decision1"],
            chosen_action="detainer", reason="prior removal order",
        )  # fmt: skip
        det = issue_detainer(
            s, "case-1", "detainer", ori=seed.ori, issued_at=T0, actor="o.ruiz",
            officer_action_id=action.id,
        )  # fmt: skip
        add_detainer_event(
            s, det.id, "release_eligible_reported", occurred_at=T0 + timedelta(days=2), actor="lea-desk",
            release_eligible_at=T0 + timedelta(days=2), hold_until=T0 + timedelta(days=4),
        )  # fmt: skip
        notice, _ = create_notice(
            s, ori=seed.ori, kind="detainer_issued", idempotency_key="case-1/detainer",
            content={"request": "hold up to 48 hours"}, created_at=T0, case_id="case-1",
            detainer_id=det.id,
        )  # fmt: skip
        mark_notice_delivered(s, notice.id, T0 + timedelta(minutes=5))
        record_case_fact(
            s, "case-2", "crime_victim", True, source="U-visa I-918 Supplement B",
            recorded_by="lea-desk", recorded_at=T0,
        )  # fmt: skip
        users.add_user(s, "o.ruiz", "ice_officer", areas=["DEN"], actor=users.ADMIN_CLI_ACTOR)
        users.add_user(s, "desk.co", "lea", jurisdictions=[seed.ori], actor="admin-cli")
        ids.update(action=action.id, detainer=det.id, notice=notice.id)
    return ids


def _exec(db, sql: str, **params) -> None:
    with db.engine.begin() as conn:
        conn.execute(text(sql), params)


def _data(db):
    with db.session() as s:
        return verify_data(s)


def _chain(db):
    with db.session() as s:
        return audit.verify(s)


def _keep_head(db, key) -> treeheads.SignedTreeHead:
    """What a third party does: take the signed head and keep a copy (as JSON text)."""
    with db.session() as s, s.begin():
        cp = audit.checkpoint(s, key=key)
        kept = audit.head_of(cp).to_json()
    return treeheads.SignedTreeHead.from_json(kept)


def _since(db, head, key=None):
    with db.session() as s:
        return verify_since(s, head, public_key=key.public_key() if key else None)


def _problems(report) -> set[tuple[str, str, str]]:
    return {(p.kind, p.table, p.key) for p in report.problems}


# --------------------------------------------------------------------------- baseline


def test_untouched_data_verifies(db, world):
    report = _data(db)
    assert report.ok, report.problems
    assert set(report.tables) >= {
        "decisions", "officer_actions", "detainers", "detainer_events", "notices",
        "case_facts", "users", "user_jurisdictions", "user_areas",
    }  # fmt: skip
    assert report.rows_checked == report.rows_logged >= 12
    assert _chain(db).ok


def test_entries_carry_row_digests_under_the_chain(db, world):
    with db.session() as s:
        entry = s.scalars(
            select(AuditEntry).where(AuditEntry.event_type == "decision.recorded").order_by(AuditEntry.seq)
        ).first()
        states = json.loads(entry.rows)
        row = s.get(DecisionRecord, world["decision1"])
        expected = rowstate.read_states(s, [("decisions", row.id)])
    assert states[0]["t"] == "decisions" and states[0]["k"] == str(world["decision1"])
    assert states[0]["h"] == expected[("decisions", str(row.id))].sha256
    # the digests are hashed with the entry: editing them breaks the chain
    _exec(db, "UPDATE audit_log SET rows = :r WHERE seq = :q", r="[]", q=entry.seq)
    assert [p.kind for p in _chain(db).problems] == ["content_edited"]


# --------------------------------------------------------------------------- the attacks


def test_attack_edit_a_decision_into_a_detainer(db, world):
    """Issue 9: "turning a 'not removable' decision into a detainer" in the table."""
    did = world["decision2"]
    with db.session() as s:
        doc = s.get(DecisionRecord, did).decision
    doc["action"] = "detainer"
    with db.engine.begin() as conn:
        conn.execute(
            DecisionRecord.__table__.update()
            .where(DecisionRecord.__table__.c.id == did)
            .values(action="detainer", decision=doc)
        )
    report = _data(db)
    assert _problems(report) == {("row_edited", "decisions", str(did))}
    assert report.problems[0].columns == ("action", "decision")
    assert _chain(db).ok  # the log itself was not touched: only --data sees it


def test_attack_delete_a_detainer(db, world):
    det = world["detainer"]
    _exec(db, "DELETE FROM notices WHERE detainer_id = :d", d=det)
    _exec(db, "DELETE FROM detainer_events WHERE detainer_id = :d", d=det)
    _exec(db, "DELETE FROM detainers WHERE id = :d", d=det)
    report = _data(db)
    kinds = _problems(report)
    assert ("row_missing", "detainers", str(det)) in kinds
    assert ("row_missing", "notices", str(world["notice"])) in kinds
    assert {k for k, _, _ in kinds} == {"row_missing"}


def test_attack_edit_a_notice(db, world):
    _exec(
        db,
        "UPDATE notices SET content = :c WHERE id = :n",
        c=json.dumps({"request": "hold indefinitely"}),
        n=world["notice"],
    )
    report = _data(db)
    assert _problems(report) == {("row_edited", "notices", str(world["notice"]))}
    assert report.problems[0].columns == ("content",)


def test_attack_insert_a_row(db, world):
    _exec(
        db,
        "INSERT INTO officer_actions (id, case_id, decision_id, kind, chosen_action, officer, "
        "reason, acted_at) VALUES (999, 'case-2', :d, 'supervisor_approval', 'detainer', 's.chen', NULL, "
        ":t)",
        d=world["decision2"],
        t=T0,
    )
    _exec(db, "UPDATE users SET role = 'admin' WHERE name = 'desk.co'")
    assert _problems(_data(db)) == {
        ("row_unlogged", "officer_actions", "999"),
        ("row_edited", "users", _user_id(db, "desk.co")),
    }


def _user_id(db, name: str) -> str:
    with db.session() as s:
        return str(users.get_user(s, name).id)


def _rewrite_log(db, *, from_seq: int, edit) -> None:
    """An attacker who rewrites the log from ``from_seq`` on, recomputing every row digest and
    entry hash and fixing the head row, and removes the tree heads the database holds."""
    with db.session() as s, s.begin():
        prev = s.get(AuditEntry, from_seq - 1).entry_hash if from_seq > 1 else audit.GENESIS_HASH
        entries = s.scalars(
            select(AuditEntry).where(AuditEntry.seq >= from_seq).order_by(AuditEntry.seq)
        ).all()
        for e in entries:
            edit(s, e)
            if e.rows is not None:  # re-read the (edited) rows: the log now "proves" them
                refs = [(r["t"], _key(r)) for r in json.loads(e.rows)]
                states = rowstate.read_states(s, refs)
                e.rows = audit.canonical_json(
                    [states[(t, rowstate.row_key(k if isinstance(k, tuple) else (k,)))].to_json()
                     for t, k in refs]
                )  # fmt: skip
            e.prev_hash = prev
            e.entry_hash = audit.compute_entry_hash(
                prev,
                audit.entry_body(
                    e.seq, e.recorded_at, e.actor, e.event_type, e.case_id, e.subject, e.payload,
                    e.rows,
                ),
            )  # fmt: skip
            prev = e.entry_hash
            s.flush()
        s.execute(text("UPDATE audit_head SET last_hash = :h, frontier = NULL"), {"h": prev})
        s.execute(text("DELETE FROM audit_checkpoints"))


def _key(state: dict):
    table = rowstate.get(state["t"])
    parts = state["k"].split("/")
    cols = table.key_columns
    values = tuple(
        int(p) if c.type.python_type is int else p for c, p in zip(cols, parts, strict=True)
    )
    return values if len(values) > 1 else values[0]


def test_attack_rewrite_the_whole_log_with_recomputed_hashes(db, world, key):
    kept = _keep_head(db, key)
    did = world["decision2"]
    _exec(db, "UPDATE decisions SET action = 'detainer' WHERE id = :d", d=did)
    _rewrite_log(db, from_seq=1, edit=lambda s, e: None)
    # nothing inside the database can tell any more ...
    assert _chain(db).ok
    assert _data(db).ok
    # ... but the head a third party kept can
    report = _since(db, kept, key)
    assert not report.ok
    assert "rewritten" in report.problems[0]
    assert report.signature == "verified"


def test_attack_truncate_with_the_head_fixed(db, world, key):
    kept = _keep_head(db, key)
    with db.session() as s:
        size = s.scalar(text("SELECT size FROM audit_head"))
        keep = size - 3
        last = s.get(AuditEntry, keep).entry_hash
    _exec(db, "DELETE FROM audit_log WHERE seq > :k", k=keep)
    _exec(db, "UPDATE audit_head SET size = :k, last_hash = :h, frontier = NULL", k=keep, h=last)
    _exec(db, "DELETE FROM audit_checkpoints")
    assert _chain(db).ok
    report = _since(db, kept, key)
    assert not report.ok and "truncated" in report.problems[0]


def test_truncation_without_fixing_the_head_is_caught_by_the_chain(db, world, key):
    kept = _keep_head(db, key)
    _exec(db, "DELETE FROM audit_log WHERE seq > 3")
    assert "truncated" in {p.kind for p in _chain(db).problems}
    assert not _since(db, kept, key).ok


def test_kept_head_that_was_altered_or_signed_by_another_key(db, world, key):
    kept = _keep_head(db, key)
    assert _since(db, kept, key).ok
    forged = treeheads.SignedTreeHead(
        kept.tree_size, "ab" * 32, kept.timestamp, kept.signature, kept.key_id, kept.public_key
    )
    report = _since(db, forged, key)
    assert report.signature == "invalid" and not report.ok
    other = Ed25519PrivateKey.generate()
    foreign = treeheads.make_head(kept.tree_size, kept.root_hash, kept.created_at, other)
    report = _since(db, foreign, key)
    assert report.signature == "invalid" and "not the trusted key" in report.problems[0]


def test_every_attack_counted(db, world, key):
    """The figures for the closing note: an edit of one row of each audited table (a column
    of its own; a key column for a table of keys) is detected by --data, and the row put back
    verifies again. Deletes and inserts: the attack tests above."""
    attacks = detected = 0
    for audited in rowstate.audited_tables():
        with db.session() as s:
            states = list(rowstate.scan_states(s, audited))
        if not states:
            continue
        first = states[0]
        editable = [
            c
            for c in audited.table.columns
            if not c.primary_key and not c.foreign_keys and c.name != "skeleton"
        ]
        # a table of keys only (a user's scope): change a key column instead
        col = editable[0] if editable else audited.key_columns[-1]
        params = {f"k{i}": v for i, v in enumerate(_as_tuple(_key({"t": audited.name,
                                                                     "k": first.key})))}  # fmt: skip
        match = [c == params[f"k{i}"] for i, c in enumerate(audited.key_columns)]
        with db.engine.connect() as conn:
            original = dict(conn.execute(select(audited.table).where(*match)).mappings().one())
        with db.engine.begin() as conn:  # an edit of one column (onupdate columns follow)
            conn.execute(
                audited.table.update()
                .where(*match)
                .values({col.name: _different(original[col.name], col)})
            )
        attacks += 1
        found = _problems(_data(db))
        if editable:
            detected += ("row_edited", audited.name, first.key) in found
        else:  # the old key is gone, a new one appeared
            detected += {k for k, t, _ in found if t == audited.name} == {
                "row_missing",
                "row_unlogged",
            }
        changed = {**original, col.name: _different(original[col.name], col)}
        now = [c == changed[c.name] for c in audited.key_columns]  # the key may have changed
        with db.engine.begin() as conn:  # put every column back
            conn.execute(audited.table.update().where(*now).values(original))
        assert _data(db).ok, audited.name
    assert attacks >= 9 and detected == attacks


def _as_tuple(k):
    return k if isinstance(k, tuple) else (k,)


def _different(value, col):
    if col.name == "ori":  # a foreign key: another participating jurisdiction
        return "TX2270000" if value != "TX2270000" else "CO0010000"
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, datetime):
        return value + timedelta(seconds=1)
    if isinstance(value, dict):
        return {**value, "tampered": True}
    if isinstance(value, str):
        enum_values = getattr(col.type, "enums", None)
        if enum_values:
            return next(v for v in enum_values if v != value)
        return value[:-1] + ("X" if not value.endswith("X") else "Y")
    return value


# --------------------------------------------------------------------------- automatic heads


def test_heads_are_taken_automatically_every_n_entries(db, seed, key, tmp_path, monkeypatch):
    witness = tmp_path / "witness"
    monkeypatch.setenv(treeheads.ENV_CHECKPOINT_EVERY, "5")
    monkeypatch.setenv(treeheads.ENV_WITNESS_DIR, str(witness))
    for i in range(12):
        with db.session() as s, s.begin():
            audit.append(s, "test.event", actor="tester", payload={"i": i})
    with db.session() as s:
        sizes = list(s.scalars(select(AuditCheckpoint.tree_size).order_by("tree_size")))
        assert sizes == [5, 10]
        assert audit.verify(s, key=key.public_key()).ok  # every head signed and consistent
    files = sorted(p.name for p in witness.iterdir())
    assert files == ["tree-head-000000000005.json", "tree-head-000000000010.json"]
    head5 = treeheads.SignedTreeHead.from_json((witness / files[0]).read_text())
    assert head5.verify_signature(key.public_key())
    assert _since(db, head5, key).ok
    # a rolled-back append leaves no head behind, in the database or the witness directory
    with db.session() as s, s.begin():
        for i in range(5):
            audit.append(s, "test.event", actor="tester", payload={"i": i})
        s.rollback()
    assert len(list(witness.iterdir())) == 2
    # a witness checks the whole directory; after a rewrite of entry 3 every kept head fails
    r = runner.invoke(root, ["audit", "verify", "--url", db.url, "--since", str(witness)])
    assert r.exit_code == 0, r.output
    assert "consistent: the kept head of 10 entries" in r.output
    _exec(db, "UPDATE audit_log SET payload = :p WHERE seq = 3", p='{"i":99}')
    with db.session() as s, s.begin():  # recompute the chain from 3 on, drop the heads
        prev = s.get(AuditEntry, 2).entry_hash
        for e in s.scalars(select(AuditEntry).where(AuditEntry.seq >= 3).order_by("seq")):
            e.prev_hash = prev
            e.entry_hash = prev = audit.compute_entry_hash(
                prev,
                audit.entry_body(
                    e.seq, e.recorded_at, e.actor, e.event_type, e.case_id, e.subject,
                    e.payload, e.rows,
                ),
            )  # fmt: skip
            s.flush()
        s.execute(text("UPDATE audit_head SET last_hash = :h, frontier = NULL"), {"h": prev})
        s.execute(text("DELETE FROM audit_checkpoints"))
    assert _chain(db).ok
    r = runner.invoke(root, ["audit", "verify", "--url", db.url, "--since", str(witness)])
    assert r.exit_code == 1
    assert "checkpoint_mismatch" in r.output and "the log was rewritten" in r.output


def test_heads_are_taken_automatically_after_m_minutes(db, seed, key, monkeypatch):
    monkeypatch.setenv(treeheads.ENV_CHECKPOINT_MINUTES, "30")
    with db.session() as s, s.begin():
        audit.append(s, "test.event", actor="tester")
    _exec(db, "UPDATE audit_head SET checkpoint_at = :t", t=datetime.now(UTC) - timedelta(hours=1))
    with db.session() as s, s.begin():
        audit.append(s, "test.event", actor="tester")
    with db.session() as s:
        assert list(s.scalars(select(AuditCheckpoint.tree_size))) == [2]


def test_unsigned_heads_are_counted_signed_ones_must_verify(db, seed, key):
    with db.session() as s, s.begin():
        audit.append(s, "test.event", actor="tester")
        audit.checkpoint(s)  # before a key was configured: unsigned
        audit.append(s, "test.event", actor="tester")
        audit.checkpoint(s, key=key)
    with db.session() as s:
        report = audit.verify(s, key=key.public_key())
    assert report.ok and report.unsigned_checkpoints == 1
    assert "(1 signature(s) verified, 1 unsigned)" in report.summary()
    _exec(db, "UPDATE audit_checkpoints SET signature = :g WHERE tree_size = 2", g="A" * 88)
    with db.session() as s:
        assert [p.kind for p in audit.verify(s, key=key.public_key()).problems] == [
            "checkpoint_signature"
        ]


def test_adopting_rows_written_before_0005(db, world, tmp_path):
    """A database migrated from before 0005 holds rows the log never recorded: an
    administrator adopts them, explicitly and audited; edits stay findings."""
    from securecomm.store.dataverify import ADOPT_EVENT, adopt_unlogged

    _exec(db, "UPDATE audit_log SET rows = NULL")  # as if written before 0005 ...
    _rewrite_log(db, from_seq=1, edit=lambda s, e: None)  # ... with a consistent chain
    assert {k for k, _, _ in _problems(_data(db))} == {"row_unlogged"}
    _exec(db, "UPDATE notices SET content = :c", c='{"x":1}')  # and one edited meanwhile
    r = runner.invoke(root, ["audit", "adopt", "--url", db.url])
    assert r.exit_code == 2 and "--yes" in r.output
    r = runner.invoke(root, ["audit", "adopt", "--url", db.url, "--yes", "--as", "nobody"])
    assert r.exit_code == 2 and "--as: not a registered user" in r.output
    r = runner.invoke(root, ["audit", "adopt", "--url", db.url, "--yes"])
    assert r.exit_code == 0, r.output
    assert "adopted 2 row(s) of decisions" in r.output
    assert _data(db).ok and _chain(db).ok  # the edit happened before adoption: taken as is
    with db.session() as s, s.begin():
        assert adopt_unlogged(s, actor="admin-cli") == {}  # nothing left
        events = list(
            s.scalars(select(AuditEntry.actor).where(AuditEntry.event_type == ADOPT_EVENT))
        )
    assert events and set(events) == {"admin-cli"}
    _exec(db, "UPDATE notices SET content = :c", c='{"x":2}')  # an edit after adoption
    assert {k for k, _, _ in _problems(_data(db))} == {"row_edited"}


def test_tampered_frontier_is_reported(db, world):
    _exec(db, "UPDATE audit_head SET frontier = :f", f='{"peaks":["' + "00" * 32 + '"],"size":1}')
    assert "frontier_mismatch" not in {p.kind for p in _chain(db).problems}  # other size: stale
    with db.session() as s:
        size = s.scalar(text("SELECT size FROM audit_head"))
    peaks = ["00" * 32] * bin(size).count("1")
    _exec(db, "UPDATE audit_head SET frontier = :f", f=json.dumps({"size": size, "peaks": peaks}))
    assert "frontier_mismatch" in {p.kind for p in _chain(db).problems}


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (treeheads.ENV_CHECKPOINT_EVERY, "0", "outside 1..10000000"),
        (treeheads.ENV_CHECKPOINT_EVERY, "ten", "not a whole number"),
        (treeheads.ENV_CHECKPOINT_MINUTES, "99999", "outside 1..10080"),
        (treeheads.ENV_SIGNING_KEY, "/nonexistent/key.pem", "no such file"),
        (treeheads.ENV_SIGNING_KEY, "-----BEGIN PRIVATE KEY-----\nAAAA\n", "not an unencrypted"),
    ],
)
def test_bad_settings_stop_the_writer(db, monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with db.session() as s, s.begin(), pytest.raises(treeheads.AuditConfigError) as exc:
        audit.append(s, "test.event", actor="tester")
    assert str(exc.value).startswith(name) and message in str(exc.value)
    with db.session() as s:
        assert s.scalar(text("SELECT size FROM audit_head")) == 0  # nothing written


def test_key_file_readable_by_others_is_refused(tmp_path):
    path, _pub, _ = treeheads.generate_key(tmp_path / "k.pem")
    assert os.stat(path).st_mode & 0o777 == 0o600
    os.chmod(path, 0o644)
    with pytest.raises(treeheads.AuditConfigError, match="readable by group or others"):
        treeheads.load_private_key(str(path))
    with pytest.raises(treeheads.AuditConfigError, match="refusing to overwrite"):
        treeheads.generate_key(path)


# --------------------------------------------------------------------------- CLI

root = typer.Typer()
root.add_typer(audit_app, name="audit")
runner = CliRunner()


def test_cli_keygen_head_and_verify(db, world, tmp_path, monkeypatch):
    monkeypatch.delenv(treeheads.ENV_SIGNING_KEY)
    key_path = tmp_path / "new.key"
    r = runner.invoke(root, ["audit", "keygen", "--out", str(key_path)])
    assert r.exit_code == 0, r.output
    assert key_path.is_file() and (tmp_path / "new.key.pub").is_file()
    env = {treeheads.ENV_SIGNING_KEY: str(key_path)}
    head_file = tmp_path / "HEAD.json"
    r = runner.invoke(root, ["audit", "head", "--url", db.url, "--out", str(head_file)], env=env)
    assert r.exit_code == 0, r.output
    head = json.loads(head_file.read_text())
    assert head["signature_algorithm"] == "Ed25519" and head["tree_size"] > 0

    # a third party verifies with only the public key
    args = ["audit", "verify", "--url", db.url, "--data", "--since", str(head_file),
            "--public-key", str(tmp_path / "new.key.pub")]  # fmt: skip
    r = runner.invoke(root, args, env={treeheads.ENV_SIGNING_KEY: ""})
    assert r.exit_code == 0, r.output
    assert "data intact" in r.output and "consistent: the kept head" in r.output

    _exec(db, "UPDATE notices SET content = :c", c='{"x":1}')
    r = runner.invoke(root, [*args, "--format", "json"], env={treeheads.ENV_SIGNING_KEY: ""})
    assert r.exit_code == 1
    report = json.loads(r.stdout)
    assert report["ok"] is False and report["log"]["ok"] is True
    assert report["data"]["problems"] == [
        {
            "kind": "row_edited",
            "table": "notices",
            "id": str(world["notice"]),
            "detail": report["data"]["problems"][0]["detail"],
            "logged_at_seq": report["data"]["problems"][0]["logged_at_seq"],
            "columns": ["content"],
        }
    ]
    r = runner.invoke(root, ["audit", "verify", "--url", db.url, "--since", str(tmp_path)])
    assert r.exit_code == 2 and "--since" in r.output and "Traceback" not in r.output
