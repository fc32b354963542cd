"""Detainer hold clock: when does a 48-hour immigration detainer expire?

Under 8 CFR 287.7(d) a detainer asks a facility to keep a person "for a period
not to exceed 48 hours, excluding Saturdays, Sundays, and holidays" beyond the
time he or she would otherwise be released (the 2011 HSAC Task Force on Secure
Communities report quotes the rule in footnote 7).

The clock implemented here:

* starts at the instant the subject becomes release-eligible;
* counts only real elapsed time that falls on a *business day* -- Monday to
  Friday, not a US federal holiday (5 U.S.C. 6103, observed dates per
  Executive Order 11582: a Saturday holiday is observed the Friday before, a
  Sunday holiday the Monday after) -- where "day" means the facility's local
  calendar day ``[local midnight, next local midnight)``;
* stops once ``hold_hours`` (default 48) counted hours have accumulated.

A business day on which daylight saving time changes is 23 or 25 real hours
long; the clock counts real elapsed hours, never wall-clock hours.  All
arithmetic is done on UTC instants.

The holiday calendar is the ``holidays`` package's ``US`` calendar, ``public``
category, no subdivision: the 11 federal holidays (Juneteenth from 2021) with
their observed dates and no state-only holidays.  The calendar is only claimed
for ``CALENDAR_FIRST_YEAR``..``CALENDAR_LAST_YEAR``; counting business days
outside that range raises ``DetainerClockError`` rather than silently treating
every weekday as a business day (``holidays`` returns an empty calendar for
years after 2100).

The module is pure: no I/O, no printing, no global mutable state apart from
memoisation caches.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from functools import cache, lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from holidays.constants import PUBLIC

__all__ = [
    "CALENDAR_FIRST_YEAR",
    "CALENDAR_LAST_YEAR",
    "DEFAULT_HOLD_HOURS",
    "DETAINER_CITATION",
    "FEDERAL_CALENDAR_CITATION",
    "DetainerClockError",
    "business_hours_between",
    "federal_holiday_name",
    "hold_until",
    "is_business_day",
    "parse_release_time",
]

FEDERAL_CALENDAR_CITATION = (
    "5 U.S.C. 6103 (federal holidays); Executive Order 11582 (observed dates)"
)
DETAINER_CITATION = "8 CFR 287.7(d); HSAC Task Force report (2011) footnote 7"

DEFAULT_HOLD_HOURS = 48

#: First year of the calendar this module vouches for: Executive Order 11582
#: (the observed-date rule cited above) and the Monday-holiday law date from 1971.
CALENDAR_FIRST_YEAR = 1971
#: Last year the ``holidays`` package populates (it returns no holidays after it).
CALENDAR_LAST_YEAR = min(int(holidays.US.end_year), 9999)

_ONE_DAY = timedelta(days=1)
_ONE_HOUR = timedelta(hours=1)
_ZERO = timedelta(0)
_MAX_SHOWN = 80


class DetainerClockError(ValueError):
    """Invalid input to (or impossible result of) a detainer-clock computation.

    The message always starts with the name of the offending field.
    """


# --------------------------------------------------------------------------- helpers


def _show(value: object) -> str:
    """repr() of a (possibly hostile) value, truncated for error messages."""
    text = repr(value)
    if len(text) > _MAX_SHOWN:
        text = text[: _MAX_SHOWN - 3] + "..."
    return text


@lru_cache(maxsize=512)
def _zone_from_key(key: str) -> ZoneInfo:
    return ZoneInfo(key)


def _resolve_zone(timezone: object, field: str = "timezone") -> ZoneInfo:
    if isinstance(timezone, ZoneInfo):
        return timezone
    if isinstance(timezone, str):
        try:
            return _zone_from_key(timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError, TypeError) as exc:
            raise DetainerClockError(f"{field}: unknown IANA time zone {_show(timezone)}") from exc
    raise DetainerClockError(
        f"{field}: expected an IANA time zone name or zoneinfo.ZoneInfo, "
        f"got {type(timezone).__name__}"
    )


def _require_aware(value: object, field: str) -> datetime:
    if not isinstance(value, datetime):
        raise DetainerClockError(
            f"{field}: expected a timezone-aware datetime.datetime, got {type(value).__name__}"
        )
    if value.tzinfo is None or value.utcoffset() is None:
        raise DetainerClockError(
            f"{field}: naive datetime {value.isoformat()} is ambiguous; attach the facility's "
            "time zone (see parse_release_time) or give an aware datetime"
        )
    return value


def _require_date(value: object, field: str = "day") -> date:
    # datetime is a subclass of date; refuse it so nobody silently uses the wall date of
    # some other time zone instead of the facility's local date.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise DetainerClockError(
            f"{field}: expected a datetime.date (the facility-local calendar date), "
            f"got {type(value).__name__}"
        )
    return value


def _hold_timedelta(hold_hours: object) -> timedelta:
    if isinstance(hold_hours, bool) or not isinstance(hold_hours, numbers.Real):
        raise DetainerClockError(
            f"hold_hours: expected a positive number of hours, got {_show(hold_hours)}"
        )
    try:
        hours = float(hold_hours)
    except (OverflowError, ValueError, TypeError) as exc:
        raise DetainerClockError(f"hold_hours: not a usable number: {_show(hold_hours)}") from exc
    if not math.isfinite(hours) or hours <= 0:
        raise DetainerClockError(
            f"hold_hours: must be a finite number > 0, got {_show(hold_hours)}"
        )
    try:
        span = timedelta(hours=hours)
    except OverflowError as exc:
        raise DetainerClockError(f"hold_hours: {_show(hold_hours)} is too large") from exc
    if span <= _ZERO:
        raise DetainerClockError(f"hold_hours: {_show(hold_hours)} is shorter than one microsecond")
    return span


def _require_bool(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise DetainerClockError(f"{field}: expected True or False, got {_show(value)}")
    return value


@cache
def _holidays_for_year(year: int) -> Mapping[date, str]:
    """Federal holidays (observed dates included) falling in ``year``: date -> name."""
    calendar = holidays.country_holidays(
        "US", years=year, observed=True, categories=(PUBLIC,), language="en_US"
    )
    return MappingProxyType({day: name for day, name in calendar.items() if day.year == year})


def _calendar_for(day: date, field: str) -> Mapping[date, str]:
    year = day.year
    if year < CALENDAR_FIRST_YEAR or year > CALENDAR_LAST_YEAR:
        raise DetainerClockError(
            f"{field}: {day.isoformat()} is outside the federal holiday calendar "
            f"({CALENDAR_FIRST_YEAR}-{CALENDAR_LAST_YEAR})"
        )
    return _holidays_for_year(year)


def _is_business_day(day: date, field: str) -> bool:
    if day.weekday() >= 5:  # Saturday, Sunday
        # Still range-check, so results never depend on an unvouched-for calendar year.
        _calendar_for(day, field)
        return False
    return day not in _calendar_for(day, field)


@lru_cache(maxsize=65536)
def _local_midnight_utc(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which the local calendar ``day`` begins in ``zone``.

    ``fold=0``: if local midnight falls in a DST gap this is the transition instant
    (the real start of the day); if it is repeated, the first occurrence.
    """
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


# --------------------------------------------------------------------------- public API


def is_business_day(day: date) -> bool:
    """True if ``day`` is Monday-Friday and not a federal holiday (observed dates included)."""
    return _is_business_day(_require_date(day), "day")


def federal_holiday_name(day: date) -> str | None:
    """Name of the federal holiday observed on ``day`` (e.g. "Independence Day (observed)").

    ``None`` if ``day`` is not a federal holiday.  A holiday falling on a weekend has
    its own entry (e.g. "Independence Day" on Saturday 2026-07-04) besides the
    observed weekday entry.
    """
    day = _require_date(day)
    return _calendar_for(day, "day").get(day)


def hold_until(
    release_eligible: datetime,
    timezone: str | ZoneInfo,
    *,
    hold_hours: float = DEFAULT_HOLD_HOURS,
    exclude_non_business_days: bool = True,
) -> datetime:
    """The instant a detainer hold expires, as an aware datetime in the facility's zone.

    ``release_eligible`` must be timezone-aware (any zone; it is converted to the
    facility's ``timezone`` before counting).  With ``exclude_non_business_days``
    (the default) only time on local business days counts, so a subject who becomes
    release-eligible on a Saturday starts the clock at Monday 00:00 local time.  With
    ``exclude_non_business_days=False`` the result is simply ``hold_hours`` real
    elapsed hours later.
    """
    start = _require_aware(release_eligible, "release_eligible")
    zone = _resolve_zone(timezone)
    remaining = _hold_timedelta(hold_hours)
    exclude = _require_bool(exclude_non_business_days, "exclude_non_business_days")

    try:
        cursor = start.astimezone(UTC)
        # The hold can never end before `remaining` real hours have passed; fail fast on
        # results beyond datetime's range.  (The business-day walk below is bounded by the
        # calendar range check, so huge holds cannot loop for long either.)
        _ = cursor + remaining
        if not exclude:
            return (cursor + remaining).astimezone(zone)

        day = cursor.astimezone(zone).date()
        while True:
            next_day = day + _ONE_DAY
            day_end = _local_midnight_utc(next_day, zone)
            if _is_business_day(day, "release_eligible"):
                available = day_end - cursor
                if remaining <= available:
                    return (cursor + remaining).astimezone(zone)
                remaining -= available
            day = next_day
            cursor = day_end
    except OverflowError as exc:
        raise DetainerClockError(
            f"release_eligible: hold from {start.isoformat()} for {_show(hold_hours)} hours "
            "ends outside the representable date range"
        ) from exc


def parse_release_time(text: str, timezone: str | ZoneInfo) -> datetime:
    """Parse an ISO 8601 release-eligible timestamp into an aware datetime.

    A timestamp with a UTC offset (or ``Z``) is returned as given.  A naive timestamp
    is facility-local wall time and gets ``timezone`` attached.  A local time repeated
    by a DST fall-back resolves to its *earlier* occurrence (the earlier release
    instant, hence the earlier hold expiry); a local time skipped by a spring-forward
    never happened and is rejected.  A date without a time of day is rejected.
    """
    zone = _resolve_zone(timezone)
    if not isinstance(text, str):
        raise DetainerClockError(
            f"text: expected an ISO 8601 date-time string, got {type(text).__name__}"
        )
    candidate = text.strip()
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError as exc:
        raise DetainerClockError(f"text: not an ISO 8601 date-time: {_show(text)}") from exc
    try:
        date.fromisoformat(candidate)
    except ValueError:
        pass
    else:
        raise DetainerClockError(
            f"text: {_show(text)} is a date without a time of day; a release time needs both"
        )

    if parsed.tzinfo is not None and parsed.utcoffset() is not None:
        return parsed

    local = parsed.replace(tzinfo=zone, fold=0)
    try:
        round_trip = local.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    except OverflowError as exc:
        raise DetainerClockError(f"text: {_show(text)} is out of range") from exc
    if round_trip != parsed.replace(fold=0):
        raise DetainerClockError(
            f"text: local time {_show(text)} does not exist in {zone.key} "
            "(skipped by a daylight-saving change)"
        )
    return local


def business_hours_between(
    start: datetime,
    end: datetime,
    timezone: str | ZoneInfo,
    *,
    exclude_non_business_days: bool = True,
) -> float:
    """Counted hours between two aware instants (the inverse of :func:`hold_until`).

    Sums real elapsed time in ``[start, end)`` that falls on the facility's local
    business days.  ``business_hours_between(s, hold_until(s, tz), tz) == 48``.
    ``end`` before ``start`` is an error.
    """
    start_utc = _require_aware(start, "start").astimezone(UTC)
    end_utc = _require_aware(end, "end").astimezone(UTC)
    zone = _resolve_zone(timezone)
    exclude = _require_bool(exclude_non_business_days, "exclude_non_business_days")
    if end_utc < start_utc:
        raise DetainerClockError(f"end: {end.isoformat()} is before start {start.isoformat()}")
    if not exclude:
        return (end_utc - start_utc) / _ONE_HOUR

    total = _ZERO
    cursor = start_utc
    day = start_utc.astimezone(zone).date()
    try:
        while cursor < end_utc:
            next_day = day + _ONE_DAY
            day_end = _local_midnight_utc(next_day, zone)
            if _is_business_day(day, "start/end"):
                total += min(day_end, end_utc) - cursor
            day = next_day
            cursor = day_end
    except OverflowError as exc:
        raise DetainerClockError(
            f"end: {end.isoformat()} is at the edge of the representable date range"
        ) from exc
    return total / _ONE_HOUR
