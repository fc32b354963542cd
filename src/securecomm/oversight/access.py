"""Who may see what (DESIGN 8: complainants' identities hidden from enforcement staff; panel
members see de-identified cases; the public sees aggregates).

Roles: ``crcl`` (DHS Office for Civil Rights and Civil Liberties), ``panel`` (the independent
panel, IV rec. 6), ``ice``, ``lea`` (police), ``public``. An acting person is checked against
the user registry (``securecomm.users.service.require_user``) when it is installed; without it
the name is only checked for unsafe characters and the role is as stated by the caller.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..textsafety import UnsafeTextError, check_text

__all__ = ["ROLES", "AccessError", "acting_user", "registry_available"]

ROLES = ("crcl", "panel", "ice", "lea", "public")
_NAME_MAX = 128


class AccessError(PermissionError):
    """The person may not do this (the message names the role needed, never data)."""


def registry_available() -> bool:
    try:
        from ..users import service  # noqa: F401
    except ImportError:
        return False
    return True


def acting_user(session: Session, name: object, *, role: str, field: str = "as") -> str:
    """The checked name of the person acting in ``role`` (refused: :class:`AccessError`)."""
    if role not in ROLES:
        raise AccessError(f"role: {role!r} is not one of {', '.join(ROLES)}")
    if not isinstance(name, str) or not name.strip():
        raise AccessError(f"{field}: the acting user's name is required")
    try:
        check_text(name, field)
    except UnsafeTextError as exc:
        raise AccessError(str(exc)) from None
    if len(name) > _NAME_MAX:
        raise AccessError(f"{field}: longer than {_NAME_MAX} characters")
    if registry_available():
        from ..users import service

        try:
            service.require_user(session, name, roles=(role,))
        except Exception as exc:  # the registry's own refusal: unknown user, wrong role
            raise AccessError(f"{field}: {exc}") from None
    return name.strip()
