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


@audit_app.command("verify")
def audit_verify(
    url: UrlOpt = None,
    trusted: Annotated[
        Path | None,
        typer.Option(
            help="Tree heads kept outside the database (JSON lines from "
            "`securecomm audit checkpoint --json`); each must still match."
        ),
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Verify the audit log: hashes, chain, sequence, head and checkpoints. Exit 1 if tampered.

    Checkpoint signatures are checked when SECURECOMM_AUDIT_KEY is set.
    """
    from .audit import TreeHead, audit_key_from_env, verify
    from .db import session_factory

    heads = []
    if trusted is not None:
        try:
            lines = trusted.read_text(encoding="utf-8").splitlines()
            heads = [TreeHead.from_json(line) for line in lines if line.strip()]
        except (OSError, ValueError, KeyError) as exc:
            fail(f"--trusted: {exc}")
    engine = _engine(url, require_head=True)
    try:
        with session_factory(engine)() as session:
            report = verify(session, key=audit_key_from_env(), trusted_heads=heads)
    finally:
        engine.dispose()
    if fmt is not Format.table:
        problems = [
            {"seq": p.seq, "kind": p.kind, "detail": p.detail}
            for p in report.problems
        ]
        if fmt is Format.json:
            emit_document({
                "ok": report.ok, "summary": report.summary(), "entries": report.entries,
                "head_size": report.head_size, "root_hash": report.root_hash,
                "checkpoints_checked": report.checkpoints_checked,
                "trusted_heads_checked": report.trusted_heads_checked,
                "signatures_checked": report.signatures_checked, "problems": problems,
            })  # fmt: skip
        else:
            emit_rows(problems, [Col("seq"), Col("kind"), Col("detail")], fmt)
        if not report.ok:
            raise typer.Exit(1)
        return
    if report.ok:
        out.print(f"[green]OK[/]: {report.summary()}")
        if report.trusted_heads_checked:
            out.print(f"{report.trusted_heads_checked} trusted tree head(s) consistent")
        return
    err.print(f"[bold red]{report.summary()}[/]")
    for problem in report.problems[:20]:
        err.print(f"  - {problem}")
    if len(report.problems) > 20:
        err.print(f"  … and {len(report.problems) - 20} more")
    raise typer.Exit(1)


@audit_app.command("checkpoint")
def audit_checkpoint(
    url: UrlOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the tree head as one JSON line (to publish).")
    ] = False,
) -> None:
    """Verify the log, then record a tree head (size, Merkle root, time) as a checkpoint.

    Signed (HMAC-SHA256) when SECURECOMM_AUDIT_KEY is set. Keep a copy outside the database
    and pass it to `audit verify --trusted` later.
    """
    from .audit import TreeHead, audit_key_from_env, checkpoint
    from .db import session_factory
    from .errors import AuditError

    engine = _engine(url, require_head=True)
    try:
        with session_factory(engine)() as session, session.begin():
            try:
                cp = checkpoint(session, key=audit_key_from_env())
            except AuditError as exc:
                err.print(f"[bold red]{exc}[/]")
                raise typer.Exit(1) from None
            head = TreeHead(cp.tree_size, cp.root_hash, cp.created_at, cp.signature)
    finally:
        engine.dispose()
    if as_json:
        typer.echo(head.to_json())
    else:
        signed = "signed" if head.signature else "unsigned"
        out.print(
            f"checkpoint: {head.tree_size} entries, root [bold]{head.root_hash}[/], "
            f"{head.created_at.isoformat() if head.created_at else ''} ({signed})"
        )
