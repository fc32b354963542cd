"""``securecomm db …`` and ``securecomm audit …``: thin Typer fronts over the store.

Register in the main CLI::

    from .store.commands import audit_app, db_app
    app.add_typer(db_app, name="db")
    app.add_typer(audit_app, name="audit")

The database is ``--url`` or ``SECURECOMM_DATABASE_URL`` (default ``sqlite:///securecomm.db``
in the current directory). Exit status: 0 ok, 1 the audit log fails verification, 2 usage or
database error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..cli.preamble import Typer, UrlOpt, err, fail, open_engine, out
from ..cli.render import Col, Format, FormatOpt, emit_document, emit_rows

__all__ = ["audit_app", "db_app"]

db_app = Typer(help="The database: migrations.")
audit_app = Typer(help="The tamper-evident audit log.")


def _engine(url: str | None, *, require_head: bool = False):
    # db upgrade creates the database; db current looks without creating (its own check)
    return open_engine(url, require_head=require_head, create=not require_head)


@db_app.command("upgrade")
def db_upgrade(
    url: UrlOpt = None,
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Create or migrate the database to the newest schema; print the revision."""
    from sqlalchemy.exc import SQLAlchemyError

    from .db import current_revision, display_url, upgrade

    engine = _engine(url)
    try:
        before = current_revision(engine=engine)
        after = upgrade(engine=engine, revision=revision)
    except SQLAlchemyError as exc:
        fail(f"{display_url(engine.url)}: {exc.__class__.__name__}: {exc}")
    finally:
        engine.dispose()
    change = "already at" if before == after else f"upgraded from {before or '(empty)'} to"
    out.print(f"{display_url(engine.url)}: {change} revision [bold]{after}[/]")


@db_app.command("current")
def db_current(url: UrlOpt = None) -> None:
    """Print the database's schema revision and whether it is the newest."""
    from sqlalchemy.exc import SQLAlchemyError

    from .db import current_revision, display_url, head_revision

    engine = _engine(url)
    database = engine.url.database
    sqlite_file = engine.dialect.name == "sqlite" and database and database != ":memory:"
    if sqlite_file and not Path(database).exists():  # do not create the file just to look
        out.print(f"{display_url(engine.url)}: no database file yet (run `securecomm db upgrade`)")
        engine.dispose()
        return
    try:
        current = current_revision(engine=engine)
    except SQLAlchemyError as exc:
        fail(f"{display_url(engine.url)}: {exc.__class__.__name__}: {exc}")
    finally:
        engine.dispose()
    head = head_revision()
    state = "(head)" if current == head else f"(head is {head}: run `securecomm db upgrade`)"
    out.print(f"{display_url(engine.url)}: revision [bold]{current or '(none)'}[/] {state}")


def _settings():
    from .treeheads import AuditConfigError, settings

    try:
        return settings()
    except AuditConfigError as exc:
        fail(str(exc))


def _read_heads(paths: list[Path], option: str, *, lines: bool):
    """Heads from files: one JSON document per file (``--since``) or one per line
    (``--trusted``)."""
    from .treeheads import SignedTreeHead

    heads = []
    files: list[Path] = []
    for path in paths:
        # a witness directory: every head it holds
        files += sorted(path.glob("tree-head-*.json")) if path.is_dir() else [path]
    if paths and not files:
        fail(f"{option}: no tree-head-*.json in {', '.join(map(str, paths))}")
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            fail(f"{option} {path}: {exc.strerror}")
        try:
            if lines:
                heads += [
                    SignedTreeHead.from_json(line, f"{option} {path} line {n}")
                    for n, line in enumerate(text.splitlines(), 1)
                    if line.strip()
                ]
            else:
                heads.append(SignedTreeHead.from_json(text, f"{option} {path}"))
        except ValueError as exc:
            fail(str(exc))
    return heads


@audit_app.command("verify")
def audit_verify(
    url: UrlOpt = None,
    data: Annotated[
        bool,
        typer.Option(
            "--data",
            help="Also recompute every audited row (decisions, officer actions, detainers, "
            "notices, case facts, users ...) against the state the log records.",
        ),
    ] = False,
    since: Annotated[
        list[Path] | None,
        typer.Option(
            "--since",
            help="A tree head kept outside the database (from `audit head --out`), or a "
            "witness directory of them: check each signature and that the log extends each "
            "(RFC 6962 consistency proof from the newest). Repeatable.",
        ),
    ] = None,
    trusted: Annotated[
        Path | None,
        typer.Option(help="Tree heads kept outside the database, one JSON object per line."),
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option(
            "--public-key",
            help="The log's Ed25519 public key (PEM) heads must be signed by "
            "(default: $SECURECOMM_AUDIT_PUBLIC_KEY or the signing key's).",
        ),
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Verify the audit log: hashes, chain, sequence, head and signed tree heads; with
    --data every audited row; with --since a head kept elsewhere. Exit 1 if anything fails.
    """
    from .audit import verify
    from .dataverify import verify_data, verify_since
    from .db import session_factory
    from .errors import AuditError
    from .treeheads import AuditConfigError, load_public_key

    heads = _read_heads(list(since or []), "--since", lines=False)
    trusted_heads = _read_heads([trusted], "--trusted", lines=True) if trusted else []
    key = _settings().public_key
    if public_key is not None:
        try:
            key = load_public_key(str(public_key), "--public-key")
        except AuditConfigError as exc:
            fail(str(exc))
    engine = _engine(url, require_head=True)
    try:
        with session_factory(engine)() as session:
            report = verify(session, key=key, trusted_heads=[*trusted_heads, *heads])
            data_report = verify_data(session) if data else None
            newest = max(heads, key=lambda h: h.tree_size) if heads else None
            head_reports = [
                verify_since(session, h, public_key=key, prove=h is newest) for h in heads
            ]
    except AuditError as exc:  # the log's own text: sizes and hashes, never row contents
        fail(str(exc), 1)
    finally:
        engine.dispose()
    ok = report.ok and (data_report is None or data_report.ok) and all(h.ok for h in head_reports)
    if fmt is not Format.table:
        log_problems = [{"seq": p.seq, "kind": p.kind, "detail": p.detail} for p in report.problems]
        if fmt is Format.json:
            emit_document(
                {
                    "ok": ok,
                    "log": {
                        "ok": report.ok,
                        "summary": report.summary(),
                        "entries": report.entries,
                        "head_size": report.head_size,
                        "root_hash": report.root_hash,
                        "checkpoints_checked": report.checkpoints_checked,
                        "trusted_heads_checked": report.trusted_heads_checked,
                        "signatures_checked": report.signatures_checked,
                        "problems": log_problems,
                    },
                    "data": data_report.to_dict() if data_report is not None else None,
                    "since": [h.to_dict() for h in head_reports],
                }
            )
        else:  # one row per finding, whatever checked it
            rows = [
                {"check": "log", "table": None, "id": p["seq"], "kind": p["kind"],
                 "detail": p["detail"]}
                for p in log_problems
            ] + [
                {"check": "data", "table": p.table, "id": p.key, "kind": p.kind,
                 "detail": p.detail}
                for p in (data_report.problems if data_report is not None else [])
            ] + [
                {"check": "since", "table": None, "id": h.head.tree_size, "kind": "head",
                 "detail": problem}
                for h in head_reports
                for problem in h.problems
            ]  # fmt: skip
            emit_rows(
                rows,
                [Col("check"), Col("table"), Col("id"), Col("kind"), Col("detail")],
                fmt,
            )
        if not ok:
            raise typer.Exit(1)
        return
    if report.ok:
        out.print(f"[green]OK[/]: {report.summary()}")
        if report.trusted_heads_checked:
            out.print(f"{report.trusted_heads_checked} trusted tree head(s) consistent")
        if not heads and not trusted_heads:
            out.print(
                "note: no tree head kept outside the database was given (--since): a rewrite "
                "of the whole log, or a truncation with the head row fixed, cannot be seen "
                "from inside it"
            )
    else:
        err.print(f"[bold red]{report.summary()}[/]")
        for problem in report.problems[:20]:
            err.print(f"  - {problem}")
        if len(report.problems) > 20:
            err.print(f"  … and {len(report.problems) - 20} more")
    for h in head_reports:
        if h.ok:
            out.print(f"[green]OK[/]: {h.summary()}")
        else:
            err.print(f"[bold red]TAMPERED[/]: {h.summary()}")
    if data_report is not None:
        if not report.ok:
            err.print("(the row states below come from a log that fails verification)")
        if data_report.ok:
            out.print(f"[green]OK[/]: {data_report.summary()}")
        else:
            err.print(f"[bold red]{data_report.summary()}[/]")
            for problem in data_report.problems[:50]:
                err.print(f"  - {problem}")
            if len(data_report.problems) > 50:
                err.print(f"  … and {len(data_report.problems) - 50} more (--format json)")
    if not ok:
        raise typer.Exit(1)


def _take_head(url: str | None, witness_dir: Path | None = None):
    """Verify the log and store (or find) a tree head at its current size -> its document."""
    from .audit import checkpoint, head_of
    from .db import session_factory
    from .errors import AuditError

    st = _settings()
    engine = _engine(url, require_head=True)
    try:
        with session_factory(engine)() as session, session.begin():
            try:
                cp = checkpoint(
                    session, key=st.signing_key, witness_dir=witness_dir or st.witness_dir
                )
            except AuditError as exc:
                err.print(f"[bold red]{exc}[/]")
                raise typer.Exit(1) from None
            head = head_of(cp)
    finally:
        engine.dispose()
    return head


@audit_app.command("head")
def audit_head(
    url: UrlOpt = None,
    out_path: Annotated[
        Path | None,
        typer.Option("--out", help="Also write the head (JSON) to this file, to keep elsewhere."),
    ] = None,
    witness_dir: Annotated[
        Path | None,
        typer.Option(
            "--witness-dir",
            help="Also write it there as tree-head-<size>.json (default: "
            "$SECURECOMM_AUDIT_WITNESS_DIR, where automatic heads go).",
        ),
    ] = None,
) -> None:
    """Verify the log and print its signed tree head (taking one at the current size if none
    exists): size, Merkle root, time, Ed25519 signature, key id. Keep it outside the database
    and pass it to `audit verify --since` later. Signed when SECURECOMM_AUDIT_SIGNING_KEY is set.
    """
    if witness_dir is not None and witness_dir.exists() and not witness_dir.is_dir():
        fail(f"--witness-dir: {witness_dir} is not a directory")
    head = _take_head(url, witness_dir)
    if witness_dir is not None:  # an existing head is not re-exported by checkpoint()
        from .treeheads import write_witness

        try:
            write_witness(witness_dir, head)
        except OSError as exc:
            fail(f"--witness-dir {witness_dir}: {exc.strerror}")
    text = head.to_json()
    if out_path is not None:
        try:
            out_path.write_text(text, encoding="utf-8")
        except OSError as exc:
            fail(f"--out {out_path}: {exc.strerror}")
    typer.echo(text, nl=False)


@audit_app.command("checkpoint")
def audit_checkpoint(
    url: UrlOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the tree head as one JSON line (to publish).")
    ] = False,
) -> None:
    """Verify the log, then record a tree head (size, Merkle root, time; Ed25519-signed when
    SECURECOMM_AUDIT_SIGNING_KEY is set). One JSON line with --json, for `verify --trusted`."""
    import json

    head = _take_head(url)
    if as_json:
        typer.echo(json.dumps(head.to_dict(), sort_keys=True))
    else:
        signed = "signed" if head.signature else "unsigned"
        out.print(
            f"checkpoint: {head.tree_size} entries, root [bold]{head.root_hash}[/], "
            f"{head.created_at.isoformat()} ({signed})"
        )


@audit_app.command("keygen")
def audit_keygen(
    out_path: Annotated[
        Path,
        typer.Option("--out", help="Private key file to create (PEM, mode 0600); PATH.pub too."),
    ],
) -> None:
    """Create an Ed25519 key for signing tree heads. Keep the private key out of the
    repository and the database host's backups; publish PATH.pub to those who keep heads."""
    from .treeheads import AuditConfigError, generate_key

    try:
        private, public, kid = generate_key(out_path)
    except AuditConfigError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"--out {out_path}: {exc.strerror}")
    out.print(f"private key: {private} (mode 600)\npublic key:  {public}\nkey id:      {kid}")
    out.print(f"use it: export SECURECOMM_AUDIT_SIGNING_KEY={private}")


@audit_app.command("adopt")
def audit_adopt(
    url: UrlOpt = None,
    as_user: Annotated[
        str | None,
        typer.Option(
            "--as", help="The registered administrator deciding this (default: admin-cli)."
        ),
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: the rows are taken as they are now.")
    ] = False,
) -> None:
    """Log the current state of audited rows the log has no record of (rows written before
    schema revision 0005), so `verify --data` proves them from now on. Edited or deleted rows
    are never adopted. An audited administrator decision: check the rows first (--data)."""
    from .dataverify import adopt_unlogged
    from .db import session_factory

    if not yes:
        fail("audit adopt: takes the unlogged rows as they are now; run `audit verify --data` "
             "first, then repeat with --yes")  # fmt: skip
    engine = _engine(url, require_head=True)
    try:
        with session_factory(engine)() as session, session.begin():
            actor = "admin-cli"
            if as_user is not None:
                from ..users.service import UserError, require_user

                try:
                    actor = require_user(session, as_user, roles=("admin",), field="--as").name
                except UserError as exc:
                    fail(str(exc))
            adopted = adopt_unlogged(session, actor=actor)
    finally:
        engine.dispose()
    if not adopted:
        out.print("nothing to adopt: every audited row is in the log")
        return
    for table, n in sorted(adopted.items()):
        out.print(f"adopted {n} row(s) of {table}")
