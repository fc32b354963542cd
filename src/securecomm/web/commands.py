"""``securecomm serve`` and ``securecomm web demo|seed-demo``: start the web service (uvicorn)
over a store, optionally with the pipeline worker in the same process."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ..cli.preamble import GuardedCommand, Typer, UrlOpt, fail, open_engine, out

web_app = Typer(help="Web service: demo store and server.", no_args_is_help=True)
HostOpt = Annotated[str, typer.Option("--host", help="Interface to listen on.")]
PortOpt = Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")]
WorkerOpt = Annotated[
    bool,
    typer.Option("--worker/--no-worker",
                 help="Run the pipeline worker in the same process (bookings submitted through "
                 "the web are processed without a separate `securecomm worker`)."),
]  # fmt: skip

DEMO_URL = "sqlite:///out/web-demo/securecomm.db"


def register(app: typer.Typer) -> None:
    app.command("serve", cls=GuardedCommand)(serve_command)
    app.add_typer(web_app, name="web")


def _users():
    from ..users import service
    from ..users.areas import aor_of_county

    return service, aor_of_county


def _start_worker(url: str, data_dir: Path | None) -> threading.Thread:
    from ..interop.adapters import agencies_for
    from ..interop.settings import load_settings
    from ..interop.worker import run_worker
    from ..preflight import PreflightError, preflight
    from ..store.db import make_engine

    engine = make_engine(url)
    settings = load_settings(data_dir=data_dir) if data_dir else load_settings()
    agencies = agencies_for(engine.url, settings)
    try:
        # fail closed at start, not in a background thread: no model, gallery or policy, no service
        preflight(engine, settings, agencies)
    except PreflightError as exc:
        fail(f"worker: {exc} (or start with --no-worker and run `securecomm worker` yourself)")

    def loop() -> None:
        # officers are people here: nothing is auto-accepted
        run_worker(engine, settings=settings, agencies=agencies, until_idle=False,
                   poll_seconds=2.0, auto_accept=False)  # fmt: skip

    thread = threading.Thread(target=loop, name="securecomm-worker", daemon=True)
    thread.start()
    return thread


def _run(url: str, host: str, port: int, worker: bool, data_dir: Path | None = None) -> None:
    import uvicorn

    from .app import create_app

    users, aor = _users()
    app = create_app(url, users=users, aor_of_county=aor)
    if worker:
        _start_worker(url, data_dir)
    out.print(f"securecomm web service on http://{host}:{port}/ (API docs /api/docs)")
    # keep-alive longer than a client's pause between requests: a connection closed by the
    # server while a client reuses it is an error for that client
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False,
                timeout_keep_alive=30)  # fmt: skip


def serve_command(
    url: UrlOpt = None,
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    worker: WorkerOpt = True,
) -> None:
    """Start the web service (role portals, JSON API /api/v1, OpenAPI /openapi.json)."""
    from ..store.db import database_url

    url = url or database_url()
    open_engine(url).dispose()  # a supported URL, a store at the head revision, or a named error
    _run(url, host, port, worker)


def _print_users(report) -> None:
    table = Table(title="Demo users (synthetic data only; the passwords are public)")
    # identifiers (user, role) are never cut, whatever the terminal's width: other columns wrap
    for col, key in (("user", "name"), ("role", "role")):
        width = max((len(u[key]) for u in report.users), default=len(col))
        table.add_column(col, no_wrap=True, min_width=max(width, len(col)))
    for col in ("password", "scope", "lands on"):
        table.add_column(col)
    from .pages import HOME_OF_ROLE

    for u in report.users:
        scope = ", ".join(u.get("jurisdictions", ()) or u.get("areas", ())) or (
            "no person's record" if u["role"] == "admin" else "every jurisdiction"
        )
        table.add_row(u["name"], u["role"], u["password"], scope, HOME_OF_ROLE.get(u["role"], "/"))
    out.print(table)
    out.print(f"API key of booking.system (Authorization: Bearer ...): {report.api_key}")
    out.print(f"Demo agency {report.ori}; ICE area {report.area}; cases by state: {report.counts}")


def _seed(url: str, data_dir: Path):
    from .demo import seed_demo

    users, aor = _users()
    data_dir.mkdir(parents=True, exist_ok=True)
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    try:
        return seed_demo(url, data_dir=data_dir, users=users, aor_of_county=aor)
    except ValueError as exc:
        fail(f"--url: {exc}")


@web_app.command("seed-demo")
def seed_demo_command(
    url: UrlOpt = None,
    data_dir: Annotated[Path, typer.Option("--data-dir", help="Galleries of the pipeline.")] = Path(
        "out/web-demo/data"
    ),
) -> None:
    """Seed a demo store (a small synthetic world through the real pipeline) and print a user
    for every role."""
    report = _seed(url or DEMO_URL, data_dir)
    _print_users(report)


@web_app.command("demo")
def demo_command(
    url: UrlOpt = None,
    data_dir: Annotated[Path, typer.Option("--data-dir", help="Galleries of the pipeline.")] = Path(
        "out/web-demo/data"
    ),
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
) -> None:
    """Seed the demo store when it is empty, print the demo users, and serve it."""
    from sqlalchemy import func, select

    from ..store.db import make_engine, upgrade
    from ..store.models import Jurisdiction
    from .demo import DEMO_PASSWORD

    url = url or DEMO_URL
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        seeded = conn.execute(select(func.count()).select_from(Jurisdiction)).scalar() or 0
    engine.dispose()
    if seeded:
        out.print(
            f"the demo store at {url} is already seeded; the demo users' password is "
            f"{DEMO_PASSWORD!r} (delete the file to start afresh)"
        )
    else:
        _print_users(_seed(url, data_dir))
    _run(url, host, port, worker=True, data_dir=data_dir)
