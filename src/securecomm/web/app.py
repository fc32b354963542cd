"""The securecomm web service: :func:`create_app` (issue 10 items 2-5).

One FastAPI application serves the JSON API (``/api/v1``, OpenAPI at ``/openapi.json``) and the
server-rendered role portals (Jinja2 + htmx, vendored under ``/static``). Handlers are thin:
they authenticate (:mod:`.auth`), authorize through :meth:`Service.caller` (the one check), call
the domain services (``interop.intake``, ``interop.field_office``, ``interop.lifecycle``,
``interop.queries``, ``stats``, ``law``) and render. No business rule lives in ``web/``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session

from ..interop.field_office import FieldOfficeError
from ..interop.lifecycle import LifecycleError
from ..interop.queries import Scope
from ..store import audit
from ..store.db import make_engine, session_factory
from ..store.errors import ConflictError, InputError, StoreError
from . import auth

log = logging.getLogger("securecomm.web")

#: Operations whose answer holds a person's record: each call is an audit entry (who, what,
#: when; DESIGN 8 "every read of a person's record").
PERSONAL_OPERATIONS = frozenset({
    "booking.list", "booking.read", "case.worklist", "case.read", "case.approvals",
    "detainer.list", "notice.list", "page.bookings", "page.detainers", "page.detainer_case",
    "page.notices", "page.worklist", "page.case", "page.approvals",
})  # fmt: skip


@dataclass
class Caller:
    """The authenticated (or anonymous) user of one request, authorized for ``operation``."""

    principal: Any | None
    operation: str
    scope: Scope
    session_data: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        return self.principal.name if self.principal is not None else "anonymous"

    @property
    def role(self) -> str:
        return self.principal.role if self.principal is not None else "anonymous"

    @property
    def csrf(self) -> str:
        return (self.session_data or {}).get("csrf", "")


def _users_module():
    from ..users import service

    return service


def _aor_function():
    from ..users.areas import aor_of_county

    return aor_of_county


class Service:
    """What the handlers share: the store, the users registry, the policy, the signer."""

    def __init__(self, database_url: str, *, users: Any, aor_of_county: Any,
                 settings: auth.AuthSettings) -> None:  # fmt: skip
        self.database_url = database_url
        self.engine = make_engine(database_url)
        self.sessions = session_factory(self.engine)
        self.users = users
        self.aor_of_county = aor_of_county
        self.settings = settings
        self.signer = auth.Signer(settings)
        self.enforcer = auth.enforcer()
        self.throttle = auth.LoginThrottle()
        self.stats_cache: dict[str, Any] = {}

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction per request: committed when the handler returns, rolled back on
        any error (the audit entry of a read commits with it)."""
        with self.sessions() as s, s.begin():
            yield s

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A read-only unit of work: on SQLite a DEFERRED transaction (no write lock; the
        store's sessions BEGIN IMMEDIATE), so authorization checks do not queue behind writers."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(sqlite_begin="DEFERRED")
            with Session(bind=conn) as s:
                yield s

    def allowed(self, role: str, operation: str) -> bool:
        return bool(self.enforcer.enforce(role, operation))

    def caller(self, request: Request, session: Session) -> Caller:
        """Authenticate and authorize the request for its route's operation (THE check).
        Runs once per request: first as the routers' dependency (:func:`gate`, before the
        request body is validated, so an unauthorized caller learns nothing from validation
        errors), then the handler gets the same answer."""
        cached = getattr(request.state, "caller", None)
        if cached is not None:
            return cached
        route = request.scope.get("route")
        operation = getattr(route, "operation_id", None) or ""
        principal, data = self._principal(request, session)
        role = principal.role if principal is not None else "anonymous"
        if not operation or not self.allowed(role, operation):
            if principal is None:
                raise auth.unauthorized()
            raise auth.forbidden(operation or "call an unlisted operation")
        scope = auth.scope_of(session, principal, self.aor_of_county)
        caller = Caller(principal, operation, scope, data)
        request.state.caller = caller
        return caller

    def _principal(self, request: Request, session: Session) -> tuple[Any | None, dict | None]:
        if request.url.path.startswith("/api/"):
            token = auth.bearer(request)
            if token is None:
                return None, None
            if token.startswith(auth.API_KEY_PREFIX):
                principal = self.users.authenticate_api_key(session, token)
            else:
                name = self.signer.read_token(token)
                principal = self.users.get_user(session, name) if name else None
            if principal is None:
                raise auth.unauthorized("invalid or expired token")
            return principal, None
        data = self.signer.read_session(request.cookies.get(auth.SESSION_COOKIE))
        if data is None:
            return None, None
        principal = self.users.get_user(session, data["u"])
        return (principal, data) if principal is not None else (None, None)

    def audit_read(self, caller: Caller, *, case_ids=(), what: str = "") -> None:
        """The audit entry of a read of person records: who, which operation, which cases --
        its own short write transaction after the read (the read itself takes no write lock).
        Called before the answer is returned: if the entry cannot be written, the caller gets
        an error, never the records (fail closed)."""
        if caller.operation not in PERSONAL_OPERATIONS:
            return
        ids = [c for c in case_ids if c][:100]
        with self.session() as session:
            audit.append(
                session,
                "web.read",
                actor=caller.name,
                subject={"case_id": ids[0]} if len(ids) == 1 else None,
                payload={"operation": caller.operation, "what": what, "case_ids": ids},
            )


def gate(request: Request) -> None:
    """Router dependency: authorize before anything else about the request is looked at."""
    svc = request.app.state.service
    with svc.read_session() as s:
        svc.caller(request, s)


def _error_body(status: int, detail: Any) -> dict[str, Any]:
    if isinstance(detail, dict) and "message" in detail:
        return {"error": {"status": status, **detail}}
    return {"error": {"status": status, "field": None, "message": str(detail)}}


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and request.url.path != "/openapi.json"


def create_app(
    database_url: str,
    *,
    secret_key: str | None = None,
    secure_cookies: bool = True,
    users: Any = None,
    aor_of_county: Any = None,
    token_seconds: int = 3600,
) -> FastAPI:
    """The web application over the store at ``database_url`` (migrated to head).

    ``secret_key`` signs cookies and tokens (default ``SECURECOMM_WEB_SECRET``, else a random
    key: sessions then end when the process does). ``secure_cookies=False`` only for plain
    HTTP test clients. ``users`` / ``aor_of_county``: the users registry and the county-to-AOR
    function (default ``securecomm.users.service`` and ``securecomm.users.areas``).
    """
    settings = auth.AuthSettings(
        secret_key=secret_key or os.environ.get("SECURECOMM_WEB_SECRET") or auth.new_secret(),
        secure_cookies=secure_cookies,
        token_seconds=token_seconds,
    )
    service = Service(
        database_url,
        users=users if users is not None else _users_module(),
        aor_of_county=aor_of_county if aor_of_county is not None else _aor_function(),
        settings=settings,
    )
    app = FastAPI(
        title="securecomm",
        version="1",
        summary="Secure Communities as the 2011 DHS Task Force recommended it be reformed.",
        description="Booking submission, cited recommendations, detainer clocks (8 CFR "
        "287.7(d)), notices and public statistics. Operations tagged `public` need no login; "
        "every other one needs a bearer token (`POST /api/v1/auth/token`) or an API key.",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.service = service

    from . import api, oversight_api, oversight_pages, pages

    app.include_router(api.router)
    app.include_router(oversight_api.router)  # complaints (issue 11)
    app.include_router(oversight_pages.router)  # public complaint form, CRCL, panel (issue 11)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=str(auth.HERE / "static")), name="static")

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException):
        if _wants_html(request):
            if exc.status_code == 401:
                return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
            return pages.error_page(request, exc.status_code, exc.detail)
        return JSONResponse(_error_body(exc.status_code, exc.detail), exc.status_code,
                            headers=getattr(exc, "headers", None))  # fmt: skip

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        errors = [
            {"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"),
             "message": e.get("msg", "invalid")}
            for e in exc.errors()
        ]  # fmt: skip
        first = errors[0] if errors else {"field": None, "message": "invalid request"}
        if _wants_html(request):
            return pages.error_page(request, 422, first)
        return JSONResponse({"error": {"status": 422, **first, "errors": errors}}, 422)

    async def _domain(request: Request, exc: Exception, status: int):
        field = getattr(exc, "field", None)
        message = getattr(exc, "message", None) or str(exc)
        detail = {"field": field, "message": message}
        if _wants_html(request):
            return pages.error_page(request, status, detail)
        return JSONResponse(_error_body(status, detail), status)

    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError):
        return await _domain(request, exc, 422)

    @app.exception_handler(ConflictError)
    async def _conflict(request: Request, exc: ConflictError):
        return await _domain(request, exc, 409)

    @app.exception_handler(FieldOfficeError)
    async def _field_office(request: Request, exc: FieldOfficeError):
        return await _domain(request, exc, 409)

    @app.exception_handler(LifecycleError)
    async def _lifecycle(request: Request, exc: LifecycleError):
        return await _domain(request, exc, 404 if isinstance(exc, LookupError) else 409)

    @app.exception_handler(StoreError)
    async def _store(request: Request, exc: StoreError):
        return await _domain(request, exc, 409)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception):
        # never a traceback to the user, never a value in the log: the type and the route
        log.error("internal error %s on %s %s", type(exc).__name__, request.method,
                  request.url.path)  # fmt: skip
        detail = {"field": None, "message": "internal error; it has been logged"}
        if _wants_html(request):
            return pages.error_page(request, 500, detail)
        return JSONResponse(_error_body(500, detail), 500)

    return app


def route_table(app: FastAPI) -> list[Any]:
    """Every API route of ``app`` (the routers included, FastAPI >= 0.165 keeps them as
    included-router entries): what the access matrix test and the docs enumerate."""
    from fastapi.routing import APIRoute

    out: list[Any] = []

    def walk(routes: list[Any]) -> None:
        for r in routes:
            if isinstance(r, APIRoute):
                out.append(r)
            elif hasattr(r, "original_router"):
                walk(r.original_router.routes)

    walk(app.routes)
    return out
