"""Start-up checks: fail closed before any work is done.

The worker (and the web service) call :func:`preflight` first. Every check names the setting
or file at fault in a :class:`PreflightError`; nothing is skipped or defaulted silently.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import URL, make_url
from sqlalchemy.exc import ArgumentError

__all__ = [
    "SUPPORTED_BACKENDS",
    "PreflightError",
    "PreflightReport",
    "check_biographic_model",
    "check_counts",
    "check_data_dir",
    "check_database_url",
    "check_holiday_calendar",
    "check_jurisdiction_zones",
    "check_policies",
    "check_settings",
    "preflight",
]

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


# --------------------------------------------------------------------------- settings


def _in_unit_interval(value: object, name: str, *, zero_ok: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise PreflightError(f"{name}: a number expected")
    low_ok = value >= 0 if zero_ok else value > 0
    if not (low_ok and value <= 1):
        interval = "[0, 1]" if zero_ok else "(0, 1]"
        raise PreflightError(f"{name}: {value:g} is outside {interval}")
    return float(value)


def check_settings(settings: Any) -> None:
    """The pipeline settings' values in range (:mod:`securecomm.interop.settings`):
    ``match_threshold`` in (0, 1] (0 or less would call every search a match),
    ``verification_band_low`` in (0, match_threshold], ``min_template_quality`` in [0, 1]."""
    match = _in_unit_interval(settings.match_threshold, "match_threshold")
    band = _in_unit_interval(settings.verification_band_low, "verification_band_low")
    if band > match:
        raise PreflightError(f"verification_band_low: {band:g} is above match_threshold {match:g}")
    _in_unit_interval(settings.min_template_quality, "min_template_quality", zero_ok=True)


def check_counts(**counts: int | None) -> None:
    """Batch sizes and counts: whole numbers >= 1 (``None``: not given)."""
    for name, value in counts.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise PreflightError(
                f"--{name.replace('_', '-')}: {value!r} is not a whole number >= 1"
            )


def check_policies(settings: Any) -> list[str]:
    """Every policy of the schedule loads and compiles now, not mid-run."""
    from .interop.settings import SettingsError

    try:
        settings.schedule.check()
    except SettingsError as exc:
        raise PreflightError(str(exc)) from None
    return [name for _, name in settings.schedule.entries]


def check_holiday_calendar(today: dt.date | None = None) -> None:
    """The federal holiday calendar the detainer clock counts business days with (8 CFR
    287.7(d); 5 U.S.C. 6103) covers this year and the next: a hold started today may end
    next year, and a year the calendar does not vouch for would stop the clock mid-run."""
    from .law import detainer_clock as clock

    today = today or dt.date.today()
    if today.year + 1 > clock.CALENDAR_LAST_YEAR:
        raise PreflightError(
            f"holiday calendar: the installed `holidays` package covers years up to "
            f"{clock.CALENDAR_LAST_YEAR}; the detainer clock needs {today.year + 1} "
            "(upgrade the package)"
        )
    holidays_this_year = clock._holidays_for_year(today.year)
    if len(holidays_this_year) < 10:  # 5 U.S.C. 6103 lists 11 federal holidays
        raise PreflightError(
            f"holiday calendar: only {len(holidays_this_year)} federal holidays for "
            f"{today.year} (5 U.S.C. 6103 lists 11); the calendar data is incomplete"
        )


# --------------------------------------------------------------------------- files


def check_data_dir(path: Path) -> None:
    """The data directory (galleries, biographic model) is a writable directory, or can be
    created."""
    if path.exists() and not path.is_dir():
        raise PreflightError(f"data directory {str(path)!r} is a file, a directory is needed")
    probe = path
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise PreflightError(f"data directory {str(path)!r} is not writable")


def check_biographic_model(path: Path, encounters: int) -> bool:
    """The name-based immigration check needs the trained model whenever IDENT holds
    encounters to link against: missing or unreadable, the worker stops (it never skips the
    check). Returns whether a model is in use."""
    if encounters == 0:
        return False  # nothing to link against: no check is skipped
    if not path.is_file():
        raise PreflightError(
            f"biographic model: missing at {str(path)!r}, while IDENT holds {encounters} "
            "encounters: without it the name-based immigration check would be skipped. "
            "Train it with `securecomm ident rebuild --biographic-model`"
        )
    from .identity.biographic import BiographicLinker

    try:
        BiographicLinker.load(path)
    except Exception as exc:  # any failure to read it is the same refusal
        raise PreflightError(
            f"biographic model: {str(path)!r} is unreadable ({type(exc).__name__}); retrain "
            "it with `securecomm ident rebuild --biographic-model`"
        ) from None
    return True


def check_jurisdiction_zones(session: Any) -> int:
    """Every jurisdiction's time zone is a valid IANA name (the policy in force and the
    detainer clock use the facility's local date; never a fall back to UTC)."""
    from sqlalchemy import select

    from .store.models import Jurisdiction

    count = 0
    for ori, name in session.execute(select(Jurisdiction.ori, Jurisdiction.timezone)):
        count += 1
        try:
            ZoneInfo(name)
        except (ValueError, KeyError, OSError):
            raise PreflightError(
                f"jurisdiction {ori}: time zone {str(name)[:64]!r} is not an IANA time zone"
            ) from None
    return count


# --------------------------------------------------------------------------- the worker


@dataclass
class PreflightReport:
    """What was checked, for the log and the status line."""

    policies: list[str] = field(default_factory=list)
    galleries: list[str] = field(default_factory=list)
    biographic_model: str | None = None
    jurisdictions: int = 0


def preflight(
    engine: Any,
    settings: Any,
    agencies: Any,
    *,
    batch_size: int | None = None,
    max_batches: int | None = None,
) -> PreflightReport:
    """Everything the worker needs, checked before it processes anything; the first problem
    raises :class:`PreflightError` naming the setting or file. Loads (or rebuilds from their
    tables) the galleries, so a damaged gallery file is replaced before the first batch."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from .store.models import Encounter

    check_database_url(engine.url)
    check_counts(batch_size=batch_size, max_batches=max_batches)
    check_settings(settings)
    report = PreflightReport(policies=check_policies(settings))
    check_holiday_calendar()
    check_data_dir(settings.data_dir_for(engine.url))
    with engine.connect() as conn:
        conn = conn.execution_options(sqlite_begin="DEFERRED")
        with Session(bind=conn) as session:
            report.jurisdictions = check_jurisdiction_zones(session)
            encounters = session.scalar(select(func.count(Encounter.id))) or 0
            model = getattr(agencies.immigration, "biographic_model", None)
            if model is not None or encounters:
                if model is None:
                    raise PreflightError(
                        "biographic model: the immigration adapter has none configured, "
                        f"while IDENT holds {encounters} encounters"
                    )
                if check_biographic_model(Path(model), encounters):
                    report.biographic_model = str(model)
            for gallery in agencies.galleries:
                try:
                    gallery.ensure(session)
                except OSError as exc:
                    raise PreflightError(
                        f"gallery {str(gallery.path)!r}: cannot be loaded or rebuilt "
                        f"({exc.strerror or type(exc).__name__})"
                    ) from None
                report.galleries.append(str(gallery.path))
    return report
