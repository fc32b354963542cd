"""Start-up checks: fail closed before any work is done.

The worker (and the web service) call :func:`preflight` first. Every check names the setting
or file at fault in a :class:`PreflightError`; nothing is skipped or defaulted silently.
"""

from __future__ import annotations

from sqlalchemy import URL, make_url
from sqlalchemy.exc import ArgumentError

__all__ = ["SUPPORTED_BACKENDS", "PreflightError", "check_database_url"]

#: Backends the store is built and tested for (tests/db_backends.py runs both).
SUPPORTED_BACKENDS = ("sqlite", "postgresql")


class PreflightError(ValueError):
    """A configuration value or a required file is not usable; the message names it."""


def check_database_url(url: str | URL, setting: str = "--url") -> URL:
    """``url`` parsed, if it names a supported backend; :class:`PreflightError` otherwise.

    The message shows the URL with its password masked."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise PreflightError(
            f"{setting}: not a database URL (e.g. sqlite:///securecomm.db or "
            "postgresql+psycopg://user@host:5432/dbname)"
        ) from None
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise PreflightError(
            f"{setting}: {backend!r} databases are not supported "
            f"(supported: {', '.join(SUPPORTED_BACKENDS)})"
        )
    if backend == "postgresql" and parsed.get_driver_name() != "psycopg":
        raise PreflightError(
            f"{setting}: driver {parsed.get_driver_name()!r} is not installed; use "
            "postgresql+psycopg://... (psycopg 3)"
        )
    return parsed
