"""What every ``securecomm`` command shares: one error type, one handler, the consoles, and
the database / file / policy helpers.

Errors
    A command raises :class:`CliError` (through :func:`fail`) with a one-line message that
    names the argument, option or setting at fault, and an exit status: :data:`USAGE` (2) for a
    usage or configuration error (bad option value, wrong path, unsupported or unreachable
    database), :data:`DATA` (1) for a data or runtime problem (rejected input, a refused step,
    an empty result, a full disk). Every command class made by :class:`Typer` (and every
    command registered with ``cls=GuardedCommand``) runs inside :func:`guard`, which prints
    ``error: MESSAGE`` on stderr and exits with that status; any other exception is mapped by
    :func:`describe_fault` (database unreachable, read-only, disk full ...) or becomes
    ``internal error (run with --debug)``. No traceback, no exception text that could carry a
    booking or a template value, reaches the terminal unless ``--debug`` (or
    ``SECURECOMM_DEBUG=1``) is given.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from typer._click import exceptions as _click_exceptions  # Typer vendors Click
from typer.core import TyperCommand, TyperGroup

__all__ = [
    "DATA",
    "USAGE",
    "CliError",
    "GuardedCommand",
    "GuardedGroup",
    "Typer",
    "UrlOpt",
    "describe_fault",
    "err",
    "fail",
    "guard",
    "load_policy_or_fail",
    "open_engine",
    "open_input",
    "out",
    "read_session",
    "rejected",
    "transaction",
]

USAGE = 2  #: usage or configuration error
DATA = 1  #: data or runtime problem
ENV_DEBUG = "SECURECOMM_DEBUG"
DEBUG_KEY = "securecomm.debug"

out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)

T = TypeVar("T")

UrlOpt = Annotated[
    str | None,
    typer.Option(
        "--url",
        help="Database URL (default: $SECURECOMM_DATABASE_URL or sqlite:///securecomm.db).",
        show_default=False,
    ),
]


class CliError(Exception):
    """A fault the user can act on: a one-line message naming the argument, and the exit
    status (:data:`USAGE` or :data:`DATA`)."""

    def __init__(self, message: str, code: int = USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def fail(message: str, code: int = USAGE) -> NoReturn:
    """Stop the command: ``error: MESSAGE`` on stderr, exit status ``code``."""
    raise CliError(message, code)


def one_line(text: str) -> str:
    """``text`` safe for a terminal line: control characters (newlines, escape sequences a
    crafted file name could carry) shown as ``\\xNN`` escapes."""
    return "".join(
        ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii")
        for ch in text
    )


def _debug(ctx: typer.Context | None) -> bool:
    if os.environ.get(ENV_DEBUG, "").strip() not in ("", "0"):
        return True
    return bool(ctx is not None and ctx.meta.get(DEBUG_KEY))


def rejected(description: str) -> None:
    """One rejected input on stderr: ``rejected LINE...``; the description (which quotes
    identifiers the sender gave) is printed without markup and with control characters
    escaped."""
    err.print("[red]rejected[/] ", end="")
    err.print(one_line(description), markup=False)


def report(exc: CliError) -> None:
    err.print("[bold red]error:[/] ", end="")
    err.print(one_line(exc.message), markup=False)


# --------------------------------------------------------------------------- faults


def _sqlite_fault(message: str) -> CliError | None:
    text = message.lower()
    if "readonly database" in text or "read-only" in text:
        return CliError(
            "database: the database file (or its directory) is read-only; "
            "use a writable location or --url", USAGE,
        )  # fmt: skip
    if "unable to open database file" in text:
        return CliError(
            "database: cannot open the database file (does its directory exist, is it a "
            "directory, is it writable?)", USAGE,
        )  # fmt: skip
    if "disk is full" in text or "disk i/o error" in text:
        return CliError("database: the disk is full (or failed); nothing more was written", DATA)
    if "database is locked" in text:
        return CliError("database: locked by another process for too long; try again", DATA)
    if "no such table" in text or "file is not a database" in text:
        return CliError(
            "database: not a securecomm database at the newest schema; run "
            "`securecomm db upgrade` (or check --url)", USAGE,
        )  # fmt: skip
    return None


def describe_fault(exc: BaseException) -> CliError | None:
    """A known environmental fault as a one-line :class:`CliError`; ``None`` if unknown.

    Only fixed texts, paths the user gave and the class of the underlying error are used:
    a database error's own text can quote the statement's parameters (booking payloads,
    template values), so it is never shown.
    """
    from sqlalchemy import exc as sa_exc

    from ..preflight import PreflightError

    if isinstance(exc, CliError):
        return exc
    if isinstance(exc, PreflightError):  # a setting or a required file: configuration
        return CliError(str(exc), USAGE)
    if isinstance(exc, sa_exc.NoSuchModuleError | sa_exc.ArgumentError):
        return CliError(f"database URL: {one_line(str(exc).splitlines()[0])}", USAGE)
    if isinstance(exc, sa_exc.DBAPIError):
        orig = exc.orig
        module = type(orig).__module__ if orig is not None else ""
        message = str(orig) if orig is not None else ""
        if module.startswith("sqlite3"):
            found = _sqlite_fault(message)
            if found is not None:
                return found
        if module.startswith("psycopg"):
            first = message.splitlines()[0] if message else ""
            low = first.lower()
            if "connection" in low and ("failed" in low or "refused" in low):
                # psycopg's connection text names host and port only
                return CliError(f"database unreachable: {one_line(first)}", USAGE)
            if "read-only" in low or "read only" in low:
                return CliError("database: the server refuses writes (read-only)", USAGE)
            if "no space left" in low or "disk full" in low:
                return CliError("database: the server's disk is full", DATA)
            if "does not exist" in low and ("relation" in low or "database" in low):
                return CliError(
                    "database: not a securecomm database at the newest schema; run "
                    "`securecomm db upgrade` (or check --url)", USAGE,
                )  # fmt: skip
        if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
            return CliError(
                f"database: {type(orig).__name__ if orig else type(exc).__name__} "
                "(run with --debug for details)", USAGE,
            )  # fmt: skip
        return None
    if isinstance(exc, OSError):
        name = one_line(str(exc.filename)) if exc.filename else None
        where = f"{name}: " if name else ""
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return CliError(f"{where}the disk is full; nothing more was written", DATA)
        if exc.errno == errno.EROFS:
            return CliError(f"{where}read-only file system", USAGE)
        if isinstance(exc, PermissionError):
            return CliError(f"{where}permission denied", USAGE)
        if isinstance(exc, FileNotFoundError):
            return CliError(f"{where}no such file or directory", USAGE)
        if isinstance(exc, NotADirectoryError):
            return CliError(f"{where}a file is in the way where a directory is needed", USAGE)
        if isinstance(exc, IsADirectoryError):
            return CliError(f"{where}is a directory, a file is needed", USAGE)
        if isinstance(exc, FileExistsError):
            return CliError(f"{where}already exists", USAGE)
        if exc.errno == errno.EPIPE:
            return None
        return CliError(f"{where}{exc.strerror or type(exc).__name__}", DATA)
    if isinstance(exc, MemoryError):
        return CliError("out of memory", DATA)
    return None


@contextmanager
def guard(ctx: typer.Context | None = None) -> Iterator[None]:
    """The one handler: :class:`CliError` and known faults -> one line and their exit
    status; anything else -> ``internal error (run with --debug)``, exit 1."""
    try:
        yield
    except (typer.Exit, typer.Abort, typer.TyperException):
        raise
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    except BrokenPipeError:  # `securecomm ... | head`: the reader left; not an error
        _quiet_stdout()
        raise typer.Exit(0) from None
    except Exception as exc:
        if _debug(ctx):
            raise
        found = describe_fault(exc)
        if found is None:
            found = CliError("internal error (run with --debug)", DATA)
        report(found)
        raise typer.Exit(found.code) from None


def _quiet_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


class GuardedCommand(TyperCommand):
    """A Typer command run inside :func:`guard`."""

    def invoke(self, ctx: typer.Context) -> Any:
        with guard(ctx):
            return super().invoke(ctx)


class GuardedGroup(TyperGroup):
    """A command group whose usage errors (a bad option value, a missing argument) end in one
    line like every other error: ``error: Invalid value for '--limit': ... (see
    `securecomm submissions list --help`)``, exit 2."""

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except _click_exceptions.NoArgsIsHelpError:
            raise
        except _click_exceptions.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else ctx.command_path
            report(CliError(f"{exc.format_message()} (see `{where} --help`)", exc.exit_code))
            raise typer.Exit(exc.exit_code) from None


class Typer(typer.Typer):
    """``typer.Typer`` whose commands run inside :func:`guard`, without Typer's own
    traceback printer (it shows local variables: booking payloads, template values)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("pretty_exceptions_enable", False)
        kwargs.setdefault("pretty_exceptions_show_locals", False)
        kwargs.setdefault("no_args_is_help", True)
        kwargs.setdefault("cls", GuardedGroup)
        super().__init__(**kwargs)

    def command(self, name: str | None = None, *, cls: type | None = None, **kwargs: Any):
        return super().command(name, cls=cls or GuardedCommand, **kwargs)


# --------------------------------------------------------------------------- inputs


def open_input(path: str, *, binary: bool = False, argument: str = "FILE") -> IO[Any]:
    """``path`` opened for reading (``-``: stdin); a missing file or a directory is a usage
    error naming ``argument``. Text mode replaces undecodable bytes (the readers reject the
    line, naming the field)."""
    if path == "-":
        return sys.stdin.buffer if binary else sys.stdin
    p = Path(path)
    if p.is_dir():
        fail(f"{argument}: {one_line(path)!r} is a directory, a file is needed")
    if not p.is_file():
        fail(f"{argument}: no such file {one_line(path)!r}")
    try:
        return p.open("rb") if binary else p.open(encoding="utf-8", errors="replace")
    except OSError as exc:
        fail(f"{argument}: cannot read {one_line(path)!r} ({exc.strerror or type(exc).__name__})")


def writable_file(path: Path, option: str) -> Path:
    """Check before any work that ``path`` can be written (its directory exists, it is not a
    directory): a usage error naming ``option`` otherwise."""
    if path.is_dir():
        fail(f"{option}: {one_line(str(path))!r} is a directory, a file is needed")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        fail(f"{option}: directory {one_line(str(parent))!r} does not exist")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        fail(f"{option}: {one_line(str(path))!r} is not writable")
    return path


def output_dir(path: Path, option: str) -> Path:
    """Create the output directory ``path`` (and its parents); a file in the way or an
    unwritable place is a usage error naming ``option``."""
    if path.exists() and not path.is_dir():
        fail(f"{option}: {one_line(str(path))!r} is a file, a directory is needed")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"{option}: cannot create {one_line(str(path))!r} ({exc.strerror or 'error'})")
    if not os.access(path, os.W_OK):
        fail(f"{option}: {one_line(str(path))!r} is not writable")
    return path


def load_policy_or_fail(name: str, option: str = "--policy"):
    """A pack or variant YAML file, or a usage error naming ``option``."""
    from ..law.packs import VariantError
    from ..policy_files import load_policy

    try:
        return load_policy(name)
    except VariantError as exc:
        fail(f"{option}: {exc}" if not str(exc).startswith(option) else str(exc))


# --------------------------------------------------------------------------- database


def open_engine(url: str | None, *, require_head: bool = True, create: bool = False):
    """An engine for ``url`` (default ``$SECURECOMM_DATABASE_URL`` or the SQLite default).

    The URL must name a supported backend (:func:`securecomm.preflight.check_database_url`).
    With ``require_head`` the database must exist and be at the newest schema; a SQLite file
    that does not exist is reported, never created, unless ``create`` (``db upgrade``,
    ``world seed``): a read-only command must not leave a ``securecomm.db`` behind.
    """
    from ..preflight import PreflightError, check_database_url
    from ..store.db import current_revision, database_url, display_url, head_revision, make_engine

    target = url or database_url()
    try:
        parsed = check_database_url(target)
    except PreflightError as exc:
        fail(str(exc))
    shown = display_url(parsed)
    if parsed.get_backend_name() == "sqlite" and not create:
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            if Path(database).is_dir():
                fail(f"--url: {shown} names a directory, not a database file")
            if not Path(database).exists():
                fail(
                    f"--url: no database at {shown}; create it with `securecomm db upgrade` "
                    "(or set SECURECOMM_DATABASE_URL)"
                )
    try:
        engine = make_engine(parsed)
    except ValueError as exc:  # a bad SECURECOMM_SQLITE_SYNCHRONOUS, an unusable URL part
        fail(f"database: {exc}")
    if require_head:
        try:
            current = current_revision(engine=engine)
        except Exception:
            engine.dispose()
            raise
        if current != head_revision():
            engine.dispose()
            fail(
                f"{shown} is at revision {current or '(none)'}, not {head_revision()}: "
                "run `securecomm db upgrade`"
            )
    return engine


class read_session:
    """A read-only session: on SQLite a deferred transaction, which neither waits for nor
    blocks a running worker (the store's default is BEGIN IMMEDIATE)."""

    def __init__(self, engine) -> None:
        from sqlalchemy.orm import Session

        self.conn = engine.connect().execution_options(sqlite_begin="DEFERRED")
        self.session = Session(bind=self.conn)

    def __enter__(self):
        return self.session

    def __exit__(self, *exc) -> None:
        self.session.close()
        self.conn.close()


def transaction(
    url: str | None,
    work: Callable[[Any], T],
    *,
    refused: tuple[type[BaseException], ...] = (),
) -> T:
    """Run ``work(session)`` in one transaction on a database at the newest schema; the
    domain errors in ``refused`` (and the store's own) become exit status 1 with their
    message."""
    from ..store.db import session_scope
    from ..store.errors import StoreError

    engine = open_engine(url)
    try:
        with session_scope(engine) as session:
            return work(session)
    except (*refused, StoreError) as exc:
        fail(str(exc), DATA)
    finally:
        engine.dispose()
