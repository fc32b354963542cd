"""The users registry: one identity per person (issue 9 item 2; issue 10 item 2).

Officers, supervisors, police staff, booking systems, oversight staff and administrators are
registered users. The command line (``--as USER``) and the web service (login) resolve every
person through this module, so a name that is not registered, is disabled, has the wrong role
or merely *looks like* a registered name is refused.

Names (:mod:`securecomm.users.names`)
    NFKC-normalised and case-folded; invisible, bidirectional and control characters refused
    (:mod:`securecomm.textsafety`); one script; their Unicode TR 39 confusable skeleton is
    stored UNIQUE, so ``o.ruiz``, ``о.ruiz`` (Cyrillic о) and ``ｏ.ruiz`` (fullwidth) cannot
    both exist, and no name may look like a reserved system actor (:data:`RESERVED_ACTORS`).

Roles and scope (:data:`ROLES`)
    ``lea`` (a police agency's or jail's staff) and ``lea_system`` (an agency's booking system,
    by API key) are scoped to one or more jurisdictions (ORIs that exist in ``jurisdictions``);
    ``ice_officer`` and ``ice_supervisor`` to one or more ICE ERO areas of responsibility
    (:mod:`securecomm.users.areas`); ``crcl`` (DHS Office for Civil Rights and Civil
    Liberties, Task Force report IV rec. 1), ``panel`` (the independent review the report asks
    for) and ``admin`` have no scope. A scope given to a role that has none is refused.

Secrets
    Passwords (12..1024 characters) are hashed with argon2id (``argon2-cffi``, its default
    parameters, RFC 9106); API keys are ``sc_`` + 32 random bytes (URL-safe base64), shown
    once and stored as their SHA-256. Neither ever reaches an audit entry, a log or an error.

Audit
    Every change (add, disable, password, API key) is an audit entry in the same transaction,
    actor = the acting administrator or :data:`ADMIN_CLI_ACTOR`.

Functions take a SQLAlchemy session and never commit: the caller owns the transaction.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..store import audit
from ..store.models import Jurisdiction, User, UserArea, UserJurisdiction
from .areas import area_codes
from .names import NameError_, normalise_name, skeleton
from .names import same_person as _same_person

__all__ = [
    "ADMIN_CLI_ACTOR",
    "AREA_ROLES",
    "JURISDICTION_ROLES",
    "RESERVED_ACTORS",
    "ROLES",
    "Principal",
    "UserError",
    "add_user",
    "authenticate_api_key",
    "authenticate_password",
    "disable_user",
    "get_user",
    "issue_api_key",
    "list_users",
    "require_user",
    "same_person",
    "set_password",
]

ROLES = ("lea", "lea_system", "ice_officer", "ice_supervisor", "crcl", "panel", "admin")
#: Roles scoped to jurisdictions (ORIs) and to ICE areas of responsibility.
JURISDICTION_ROLES = ("lea", "lea_system")
AREA_ROLES = ("ice_officer", "ice_supervisor")
#: The actor of changes made from the command line without ``--as``.
ADMIN_CLI_ACTOR = "admin-cli"
#: Names the system itself acts under (audit entries, officer actions, detainer events): no
#: user may be registered under them or anything that looks like them. Collected from the
#: code: the pipeline and its stages, the policy engine, the notifier, the detainer clock, the
#: auto-accept mode of simulations, the synthetic LEA and ICE of ``synth``, this CLI.
RESERVED_ACTORS: frozenset[str] = frozenset(
    {
        "pipeline", "worker", "system", "lesc", "auto-accept", "policy-engine", "notifier",
        "detainer-clock", "lea-sim", "ice-sim", ADMIN_CLI_ACTOR, "admin", "root", "anonymous",
        "public", "unknown", "nobody", "ident", "iafis", "ngi", "matcher", "scheduler",
    }
)  # fmt: skip
PASSWORD_MIN = 12
PASSWORD_MAX = 1024
API_KEY_PREFIX = "sc_"
_API_KEY = re.compile(r"^sc_[A-Za-z0-9_-]{43}$")

_hasher = PasswordHasher()
# Verified against when the user is unknown, so a miss costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class UserError(ValueError):
    """The request cannot be done as asked. The message names the field (``name``, ``role``,
    ``jurisdictions``, ``areas``, ``password``, ``actor``, ``user`` ...), never a secret."""


@dataclass(frozen=True)
class Principal:
    """A registered user as the rest of the system sees it (no secrets)."""

    id: int
    name: str
    role: str
    jurisdictions: tuple[str, ...]
    areas: tuple[str, ...]
    disabled: bool


# --------------------------------------------------------------------------- helpers


def _now() -> datetime:
    return datetime.now(UTC)


def _name(value: object, field: str = "name") -> str:
    try:
        return normalise_name(value, field)
    except NameError_ as exc:
        raise UserError(str(exc)) from None


def _reserved_skeletons() -> frozenset[str]:
    return frozenset(skeleton(a) for a in RESERVED_ACTORS)


def _principals(session: Session, users: Sequence[User]) -> list[Principal]:
    ids = [u.id for u in users]
    oris: dict[int, list[str]] = {}
    areas: dict[int, list[str]] = {}
    if ids:
        for uid, ori in session.execute(
            select(UserJurisdiction.user_id, UserJurisdiction.ori).where(
                UserJurisdiction.user_id.in_(ids)
            )
        ):
            oris.setdefault(uid, []).append(ori)
        for uid, area in session.execute(
            select(UserArea.user_id, UserArea.area).where(UserArea.user_id.in_(ids))
        ):
            areas.setdefault(uid, []).append(area)
    return [
        Principal(
            id=u.id,
            name=u.name,
            role=u.role,
            jurisdictions=tuple(sorted(oris.get(u.id, ()))),
            areas=tuple(sorted(areas.get(u.id, ()))),
            disabled=u.disabled_at is not None,
        )
        for u in users
    ]


def _principal(session: Session, user: User) -> Principal:
    return _principals(session, [user])[0]


def _row(session: Session, name: str) -> User | None:
    return session.scalar(select(User).where(User.name == name))


def _check_actor(session: Session, actor: object) -> str:
    """The acting administrator's name: :data:`ADMIN_CLI_ACTOR` or an active ``admin``."""
    if actor == ADMIN_CLI_ACTOR:
        return ADMIN_CLI_ACTOR
    return require_user(session, actor, roles=("admin",), field="actor").name  # type: ignore[arg-type]


def _check_password(password: object) -> str:
    if not isinstance(password, str):
        raise UserError("password: a text value is required")
    if len(password) < PASSWORD_MIN:
        raise UserError(f"password: at least {PASSWORD_MIN} characters are required")
    if len(password) > PASSWORD_MAX:
        raise UserError(f"password: at most {PASSWORD_MAX} characters")
    if "\x00" in password:
        raise UserError("password: contains U+0000 NULL, which is not allowed")
    return password


def _distinct(values: Iterable[object], field: str) -> list[str]:
    seen: list[str] = []
    for value in values:
        if not isinstance(value, str) or not value.strip():
            raise UserError(f"{field}: a non-empty code is required")
        code = value.strip().upper()
        if code not in seen:
            seen.append(code)
    return seen


def _audit_user(
    session: Session,
    event: str,
    user: User,
    actor: str,
    scope: Sequence[tuple[str, Any]] = (),
    **payload: object,
) -> None:
    audit.append(
        session,
        f"user.{event}",
        actor=actor,
        subject={"user_id": user.id},
        payload={"name": user.name, "role": user.role, **payload},
        rows=[("users", user.id), *scope],
    )


# --------------------------------------------------------------------------- writes


def add_user(
    session: Session,
    name: str,
    role: str,
    *,
    jurisdictions: Iterable[str] = (),
    areas: Iterable[str] = (),
    password: str | None = None,
    actor: str,
) -> Principal:
    """Register a user (see the module docstring for every rule); audited as ``user.added``."""
    actor = _check_actor(session, actor)
    name = _name(name)
    key = skeleton(name)
    if key in _reserved_skeletons():
        raise UserError("name: is, or looks like, a name the system acts under (reserved)")
    if role not in ROLES:
        raise UserError(f"role: {role!r} is not one of {', '.join(ROLES)}")
    oris = _distinct(jurisdictions, "jurisdictions")
    codes = _distinct(areas, "areas")
    if role in JURISDICTION_ROLES:
        if not oris:
            raise UserError(f"jurisdictions: role {role} needs at least one jurisdiction (ORI)")
        known = set(session.scalars(select(Jurisdiction.ori).where(Jurisdiction.ori.in_(oris))))
        missing = [o for o in oris if o not in known]
        if missing:
            raise UserError(f"jurisdictions: {', '.join(missing)} not in the jurisdictions table")
    elif oris:
        raise UserError(f"jurisdictions: only roles {', '.join(JURISDICTION_ROLES)} have them")
    if role in AREA_ROLES:
        if not codes:
            raise UserError(
                f"areas: role {role} needs at least one ICE area of responsibility (e.g. SEA)"
            )
        unknown = [c for c in codes if c not in area_codes()]
        if unknown:
            raise UserError(
                f"areas: {', '.join(unknown)} not an ICE area of responsibility "
                f"(one of {', '.join(sorted(area_codes()))})"
            )
    elif codes:
        raise UserError(f"areas: only roles {', '.join(AREA_ROLES)} have them")
    password_hash = _hasher.hash(_check_password(password)) if password is not None else None

    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise UserError("name: a user of that name is already registered")
    if session.scalar(select(User.id).where(User.skeleton == key)) is not None:
        raise UserError(
            "name: looks like a registered user's name (same Unicode TR 39 confusable "
            "skeleton): choose a clearly different name"
        )
    user = User(
        name=name,
        skeleton=key,
        role=role,
        password_hash=password_hash,
        created_at=_now(),
        created_by=actor,
    )
    try:
        with session.begin_nested():
            session.add(user)
            session.flush()
            session.add_all(UserJurisdiction(user_id=user.id, ori=o) for o in oris)
            session.add_all(UserArea(user_id=user.id, area=c) for c in codes)
            session.flush()
    except IntegrityError:
        # registered concurrently under the same name or a look-alike
        raise UserError("name: a user of that name, or one that looks like it, exists") from None
    _audit_user(
        session,
        "added",
        user,
        actor,
        [("user_jurisdictions", (user.id, o)) for o in oris]
        + [("user_areas", (user.id, c)) for c in codes],
        jurisdictions=sorted(oris),
        areas=sorted(codes),
        password_set=password_hash is not None,
    )
    return _principal(session, user)


def disable_user(session: Session, name: str, *, actor: str) -> Principal:
    """Disable a user (kept: audit entries name them); their password and API key stop
    working at once. Disabling a disabled user changes nothing. Audited ``user.disabled``."""
    actor = _check_actor(session, actor)
    user = _row(session, _name(name, "user"))
    if user is None:
        raise UserError("user: not registered")
    if user.disabled_at is None:
        user.disabled_at = _now()
        session.flush()
        _audit_user(session, "disabled", user, actor)
    return _principal(session, user)


def set_password(session: Session, name: str, password: str, *, actor: str) -> Principal:
    """Set or replace an active user's password (argon2id). Audited ``user.password_set``
    (without the password)."""
    actor = _check_actor(session, actor)
    user = _active_row(session, name, "user")
    user.password_hash = _hasher.hash(_check_password(password))
    session.flush()
    _audit_user(session, "password_set", user, actor)
    return _principal(session, user)


def issue_api_key(session: Session, name: str, *, actor: str) -> str:
    """A new API key for an active user, replacing any earlier one; returned once (only its
    SHA-256 is stored). Audited ``user.api_key_issued`` (without the key)."""
    actor = _check_actor(session, actor)
    user = _active_row(session, name, "user")
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    user.api_key_sha256 = hashlib.sha256(key.encode("ascii")).hexdigest()
    user.api_key_issued_at = _now()
    session.flush()
    _audit_user(session, "api_key_issued", user, actor, replaced_earlier_key=True)
    return key


# --------------------------------------------------------------------------- reads


def _active_row(session: Session, name: object, field: str) -> User:
    user = _row(session, _name(name, field))
    if user is None or user.disabled_at is not None:
        raise UserError(f"{field}: not a registered active user")
    return user


def get_user(session: Session, name: str) -> Principal | None:
    """The active user of that name (normalised), or None (unknown, disabled, malformed)."""
    try:
        normalised = normalise_name(name)
    except NameError_:
        return None
    user = _row(session, normalised)
    if user is None or user.disabled_at is not None:
        return None
    return _principal(session, user)


def require_user(
    session: Session, name: str, *, roles: Iterable[str] | None = None, field: str = "user"
) -> Principal:
    """The active user of that name, with one of ``roles`` if given; else :class:`UserError`
    naming ``field`` (e.g. ``--as``, ``--supervisor``) and why: not registered (or only
    looks like a registered name), disabled, or the wrong role."""
    normalised = _name(name, field)
    user = _row(session, normalised)
    if user is None:
        if session.scalar(select(User.id).where(User.skeleton == skeleton(normalised))):
            raise UserError(
                f"{field}: not a registered user; it looks like a registered name but is "
                "spelled with different characters"
            )
        raise UserError(f"{field}: not a registered user")
    if user.disabled_at is not None:
        raise UserError(f"{field}: this user is disabled")
    if roles is not None:
        allowed = tuple(roles)
        if user.role not in allowed:
            raise UserError(
                f"{field}: has role {user.role}; one of {', '.join(allowed)} is required"
            )
    return _principal(session, user)


def list_users(session: Session) -> list[Principal]:
    """Every user, disabled ones included, by name."""
    return _principals(session, list(session.scalars(select(User).order_by(User.name))))


def authenticate_password(session: Session, name: str, password: str) -> Principal | None:
    """The active user if ``password`` is theirs, else None (unknown, disabled, no password,
    wrong password: indistinguishable to the caller, and about as slow)."""
    user = None
    with contextlib.suppress(NameError_):
        user = _row(session, normalise_name(name))
    stored = user.password_hash if user is not None else None
    try:
        ok = _hasher.verify(stored or _DUMMY_HASH, password if isinstance(password, str) else "")
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None or stored is None or user.disabled_at is not None:
        return None
    return _principal(session, user)


def authenticate_api_key(session: Session, key: str) -> Principal | None:
    """The active user holding this API key, else None."""
    if not isinstance(key, str) or not _API_KEY.match(key):
        return None
    digest = hashlib.sha256(key.encode("ascii")).hexdigest()
    user = session.scalar(select(User).where(User.api_key_sha256 == digest))
    if user is None or user.disabled_at is not None:
        return None
    # the lookup found it by equality already; compare again in constant time all the same
    if not hmac.compare_digest(user.api_key_sha256 or "", digest):
        return None
    return _principal(session, user)


def same_person(a: str, b: str) -> bool:
    """Whether two names denote the same person (equal TR 39 skeletons after NFKC and case
    folding): ``o.ruiz`` and ``о.ruiz``, ``ｏ.ruiz`` or ``o.ruiz`` + U+200B are."""
    return _same_person(a, b)
