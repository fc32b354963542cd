"""``securecomm users …``: a thin Typer front over :mod:`securecomm.users.service`.

Register in the main CLI with one line: ``app.add_typer(users_app, name="users")``.
Secrets never come from the command line (argv is visible to every local user in ``ps``):
passwords are read from standard input (``--password-stdin``; typed without echo at a
terminal), API keys are printed once. Exit status: 0 ok, 2 usage or database error.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ..cli.preamble import Typer, UrlOpt, err, fail, open_engine, out
from ..cli.render import Col, Format, FormatOpt, emit_rows

__all__ = ["users_app"]

users_app = Typer(
    help="Registered users (officers, supervisors, police staff, booking systems, oversight)."
)

AsOpt = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="The administrator making the change (a registered admin); default: admin-cli.",
        show_default=False,
    ),
]


def _read_password() -> str:
    if sys.stdin.isatty():
        import getpass

        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            fail("password: the two entries differ")
        return first
    line = sys.stdin.readline()
    return line[:-1] if line.endswith("\n") else line


def _run(url: str | None, work, *, write: bool):
    """Run ``work(session)`` in one transaction on a database at the newest schema; a user
    error ends the command with its one-line message (exit 2); database faults are reported
    by the CLI's one handler (securecomm.cli.preamble)."""
    from ..store.db import session_factory
    from .service import UserError

    engine = open_engine(url, writes=write)
    try:
        with session_factory(engine)() as session:
            try:
                if write:
                    with session.begin():
                        return work(session)
                return work(session)
            except UserError as exc:
                fail(str(exc))
    finally:
        engine.dispose()


def _actor(as_user: str | None) -> str:
    from .service import ADMIN_CLI_ACTOR

    return as_user if as_user is not None else ADMIN_CLI_ACTOR


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="Login name (e.g. o.ruiz).")],
    role: Annotated[
        str,
        typer.Option(help="lea, lea_system, ice_officer, ice_supervisor, crcl, panel or admin."),
    ],
    jurisdiction: Annotated[
        list[str] | None,
        typer.Option("--jurisdiction", help="ORI (lea, lea_system; repeat for several)."),
    ] = None,
    area: Annotated[
        list[str] | None,
        typer.Option(
            "--area",
            help="ICE area of responsibility, e.g. SEA (ice_officer, ice_supervisor; repeat).",
        ),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    url: UrlOpt = None,
    as_user: AsOpt = None,
) -> None:
    """Register a user. Names are checked for look-alikes of registered and system names."""
    from .service import add_user

    password = _read_password() if password_stdin else None
    p = _run(
        url,
        lambda s: add_user(
            s, name, role, jurisdictions=jurisdiction or (), areas=area or (),
            password=password, actor=_actor(as_user),
        ),
        write=True,
    )  # fmt: skip
    scope = ", ".join(p.jurisdictions or p.areas) or "-"
    login = "password set" if password is not None else "no password (set one with users password)"
    out.print(f"added user [bold]{p.name}[/] (id {p.id}), role {p.role}, scope {scope}; {login}")


@users_app.command("list")
def users_list(
    url: UrlOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """List users (disabled ones too)."""
    from .service import list_users

    users = _run(url, list_users, write=False)
    rows = [
        {"id": p.id, "name": p.name, "role": p.role, "jurisdictions": list(p.jurisdictions),
         "areas": list(p.areas), "disabled": p.disabled}
        for p in users
    ]  # fmt: skip
    columns = [
        Col("id"), Col("name", ident=True), Col("role"),
        Col("jurisdictions", show=" ".join), Col("areas", show=" ".join),
        Col("disabled", "state", show=lambda v: "disabled" if v else "active"),
    ]  # fmt: skip
    emit_rows(rows, columns, fmt)


@users_app.command("disable")
def users_disable(
    name: Annotated[str, typer.Argument(help="The user to disable.")],
    url: UrlOpt = None,
    as_user: AsOpt = None,
) -> None:
    """Disable a user: their password and API key stop working; their record is kept."""
    from .service import disable_user

    p = _run(url, lambda s: disable_user(s, name, actor=_actor(as_user)), write=True)
    out.print(f"user [bold]{p.name}[/] is disabled")


@users_app.command("password")
def users_password(
    name: Annotated[str, typer.Argument(help="The user.")],
    url: UrlOpt = None,
    as_user: AsOpt = None,
) -> None:
    """Set a user's password, read from standard input (typed without echo at a terminal)."""
    from .service import set_password

    password = _read_password()
    p = _run(url, lambda s: set_password(s, name, password, actor=_actor(as_user)), write=True)
    out.print(f"password set for [bold]{p.name}[/]")


@users_app.command("api-key")
def users_api_key(
    name: Annotated[str, typer.Argument(help="The user (usually a lea_system booking system).")],
    url: UrlOpt = None,
    as_user: AsOpt = None,
) -> None:
    """Issue a new API key (replacing any earlier one) and print it once on standard output."""
    from .service import issue_api_key

    key = _run(url, lambda s: issue_api_key(s, name, actor=_actor(as_user)), write=True)
    err.print("API key (shown once; only its SHA-256 is stored):")
    typer.echo(key)
