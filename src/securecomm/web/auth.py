"""Who is asking, and may they (issue 10 item 2): authentication and the ONE authorization check.

Authentication
    * Browser: a session cookie signed with itsdangerous (``Secure``, ``HttpOnly``,
      ``SameSite=Strict``, expiring), holding the user's name and a synchroniser CSRF token.
      Every state-changing form carries the token; :func:`check_csrf` refuses a POST without it.
    * API: ``Authorization: Bearer <token>`` -- a signed, expiring token from
      ``POST /api/v1/auth/token`` (OAuth2 password flow) -- or ``Bearer sc_...``, an API key
      issued to a booking system (``lea_system``). API routes never read the cookie, so a
      cross-site form cannot drive them.
    The user is looked up in the users registry on every request (``securecomm.users.service``),
    so a disabled user is refused at once, whatever token or cookie they still hold.

Authorization
    :func:`authorize` is the one check: the route's ``operation_id`` against the casbin
    role x operation policy (``access_policy.csv``), then the row scope of the principal
    (:func:`scope_of`, used by every query through :func:`securecomm.interop.queries.scoped`).
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import casbin
from fastapi import HTTPException, Request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from ..interop.queries import Scope

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "sc_session"
CSRF_FIELD = "csrf_token"
API_KEY_PREFIX = "sc_"

#: Roles scoped to their ORIs, to their areas of responsibility, and to everything (read).
ORI_ROLES = frozenset({"lea", "lea_system"})
AREA_ROLES = frozenset({"ice_officer", "ice_supervisor"})
ALL_ROLES = frozenset({"crcl", "panel"})


@dataclass(frozen=True)
class AuthSettings:
    secret_key: str
    session_seconds: int = 8 * 3600
    token_seconds: int = 3600
    secure_cookies: bool = True


def enforcer() -> casbin.Enforcer:
    return casbin.Enforcer(str(HERE / "access_model.conf"), str(HERE / "access_policy.csv"))


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class Signer:
    """Signed session cookies and bearer tokens (two salts: one cannot pass for the other)."""

    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings
        self._session = URLSafeTimedSerializer(settings.secret_key, salt="securecomm.session")
        self._token = URLSafeTimedSerializer(settings.secret_key, salt="securecomm.api-token")

    def session_cookie(self, name: str) -> tuple[str, dict[str, Any]]:
        data = {"u": name, "csrf": secrets.token_urlsafe(24), "iat": int(time.time())}
        return self._session.dumps(data), data

    def read_session(self, value: str | None) -> dict[str, Any] | None:
        if not value:
            return None
        try:
            data = self._session.loads(value, max_age=self.settings.session_seconds)
        except (BadSignature, SignatureExpired):
            return None
        return data if isinstance(data, dict) and isinstance(data.get("u"), str) else None

    def token(self, name: str) -> str:
        return self._token.dumps({"u": name})

    def read_token(self, value: str) -> str | None:
        try:
            data = self._token.loads(value, max_age=self.settings.token_seconds)
        except (BadSignature, SignatureExpired):
            return None
        return data.get("u") if isinstance(data, dict) and isinstance(data.get("u"), str) else None


class LoginThrottle:
    """Refuse logins for a name after ``limit`` failures within ``window`` seconds (password
    guessing costs a quarter of an hour per five guesses), and from one address after
    ``address_limit`` failures (higher: a whole police department may share one address).

    Kept in the process's memory (a restart forgets it; several processes each count their
    own): a brake on guessing, not an account lock-out an attacker could use to lock others out
    for long."""

    def __init__(self, limit: int = 5, address_limit: int = 50, window: float = 900.0) -> None:
        self.limit = limit
        self.address_limit = address_limit
        self.window = window
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> list[float]:
        kept = [t for t in self._failures.get(key, ()) if now - t < self.window]
        if kept:
            self._failures[key] = kept
        else:
            self._failures.pop(key, None)
        return kept

    def check(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                recent = self._recent(key, now)
                limit = self.address_limit if key.startswith("addr:") else self.limit
                if len(recent) >= limit:
                    wait = int(self.window - (now - recent[0])) + 1
                    raise HTTPException(
                        429,
                        detail={"field": "username", "message": "too many failed logins; "
                                f"try again in {wait // 60 + 1} minutes"},
                        headers={"Retry-After": str(wait)},
                    )  # fmt: skip

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                recent = self._recent(key, now)
                recent.append(now)
                self._failures[key] = recent

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys[:1]:  # the name's count; the address keeps its own
                self._failures.pop(key, None)


def scope_of(session: Session, principal: Any, aor_of_county) -> Scope:
    """The rows a principal reaches (see :mod:`securecomm.interop.queries`)."""
    if principal is None:
        return Scope.nothing()
    if principal.role in ORI_ROLES:
        return Scope.of_oris(principal.jurisdictions)
    if principal.role in AREA_ROLES:
        return Scope.of_areas(session, principal.areas, aor_of_county)
    if principal.role in ALL_ROLES:
        return Scope.everything()
    return Scope.nothing()  # admin: users and jurisdictions, no person's record


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def unauthorized(detail: str = "log in first") -> HTTPException:
    return HTTPException(401, detail={"field": "authorization", "message": detail},
                         headers={"WWW-Authenticate": "Bearer"})  # fmt: skip


def forbidden(operation: str) -> HTTPException:
    return HTTPException(
        403, detail={"field": "authorization", "message": f"your role may not {operation}"}
    )


def check_csrf(session_data: dict[str, Any] | None, submitted: str | None) -> None:
    """Synchroniser token: the form's token must equal the one in the signed session."""
    expected = (session_data or {}).get("csrf")
    if not expected or not submitted or not secrets.compare_digest(str(expected), submitted):
        raise HTTPException(
            403,
            detail={"field": CSRF_FIELD, "message": "missing or wrong CSRF token; reload the page"},
        )


def login_keys(request: Request, username: str) -> tuple[str, str]:
    """The throttle's keys of a login attempt: the name tried and the client's address."""
    host = request.client.host if request.client else "?"
    return f"name:{username.strip().casefold()[:200]}", f"addr:{host}"
