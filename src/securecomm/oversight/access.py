"""Who may act and who may see what (complainants' identities hidden from enforcement staff;
panel members see de-identified cases; the public sees aggregates).

The acting person is a registered user (:func:`securecomm.users.service.require_user`): a name
that is not registered, is disabled, only looks like a registered name, or lacks the role is
refused. Roles (the registry's): ``crcl`` (DHS Office for Civil Rights and Civil Liberties)
takes complaints and sees complainants; ``panel`` (the independent panel, IV rec. 6) records
draws and findings; ``ice_officer`` / ``ice_supervisor`` respond to findings. Any role other
than ``crcl`` gets the redacted view of a complaint.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..users.service import Principal, UserError, require_user

__all__ = ["ACTING_ROLES", "AccessError", "acting_user", "viewer"]

#: what an oversight step needs -> the registry roles that may take it
ACTING_ROLES: dict[str, tuple[str, ...]] = {
    "crcl": ("crcl",),
    "panel": ("panel",),
    "ice": ("ice_officer", "ice_supervisor"),
}


class AccessError(PermissionError):
    """The person may not do this (the message names the field and why, never data)."""


def viewer(session: Session, name: object, *, field: str = "--as") -> Principal:
    """The registered, active user ``name`` whatever the role (for views that redact by role)."""
    if not isinstance(name, str):
        raise AccessError(f"{field}: the acting user's name is required")
    try:
        return require_user(session, name, field=field)
    except UserError as exc:
        raise AccessError(str(exc)) from None


def acting_user(session: Session, name: object, *, role: str, field: str = "--as") -> str:
    """The registered name of the person taking a step that needs ``role`` (a key of
    :data:`ACTING_ROLES`); :class:`AccessError` otherwise."""
    if role not in ACTING_ROLES:
        raise AccessError(f"role: {role!r} is not one of {', '.join(ACTING_ROLES)}")
    if not isinstance(name, str):
        raise AccessError(f"{field}: the acting user's name is required")
    try:
        return require_user(session, name, roles=ACTING_ROLES[role], field=field).name
    except UserError as exc:
        raise AccessError(str(exc)) from None
