"""Tests for securecomm.law.detainer_clock (8 CFR 287.7(d) 48-hour detainer clock)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from securecomm.law.detainer_clock import (
    CALENDAR_FIRST_YEAR,
    CALENDAR_LAST_YEAR,
    DETAINER_CITATION,
    FEDERAL_CALENDAR_CITATION,
    DetainerClockError,
    business_hours_between,
    federal_holiday_name,
    hold_until,
    is_business_day,
    parse_release_time,
)

NY = "America/New_York"
LA = "America/Los_Angeles"
US_ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Puerto_Rico",
]


def local(zone: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone))


def wall(dt: datetime) -> datetime:
    """Local wall-clock reading (naive), for comparing against hand-computed answers."""
    return dt.replace(tzinfo=None)


def utc(dt: datetime) -> datetime:
    # Aware datetimes sharing one tzinfo compare/subtract by *wall clock* in Python;
    # convert to UTC to compare real instants.
    return dt.astimezone(UTC)


# --------------------------------------------------------------------------- constants


def test_citations_are_exact() -> None:
    assert FEDERAL_CALENDAR_CITATION == (
        "5 U.S.C. 6103 (federal holidays); Executive Order 11582 (observed dates)"
    )
    assert DETAINER_CITATION == "8 CFR 287.7(d); HSAC Task Force report (2011) footnote 7"


def test_error_is_a_value_error() -> None:
    assert issubclass(DetainerClockError, ValueError)


# --------------------------------------------------------------------------- calendar


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (
            2026,
            {
                date(2026, 1, 1): "New Year's Day",
                date(2026, 1, 19): "Martin Luther King Jr. Day",
                date(2026, 2, 16): "Washington's Birthday",
                date(2026, 5, 25): "Memorial Day",
                date(2026, 6, 19): "Juneteenth National Independence Day",
                date(2026, 7, 3): "Independence Day (observed)",
                date(2026, 9, 7): "Labor Day",
                date(2026, 10, 12): "Columbus Day",
                date(2026, 11, 11): "Veterans Day",
                date(2026, 11, 26): "Thanksgiving Day",
                date(2026, 12, 25): "Christmas Day",
            },
        ),
        (
            2020,
            {
                date(2020, 1, 1): "New Year's Day",
                date(2020, 1, 20): "Martin Luther King Jr. Day",
                date(2020, 2, 17): "Washington's Birthday",
                date(2020, 5, 25): "Memorial Day",
                date(2020, 7, 3): "Independence Day (observed)",
                date(2020, 9, 7): "Labor Day",
                date(2020, 10, 12): "Columbus Day",
                date(2020, 11, 11): "Veterans Day",
                date(2020, 11, 26): "Thanksgiving Day",
                date(2020, 12, 25): "Christmas Day",
            },
        ),
    ],
)
def test_weekday_holidays_of_a_year_are_exactly_the_federal_ones(
    year: int, expected: dict[date, str]
) -> None:
    day = date(year, 1, 1)
    found = {}
    while day.year == year:
        if day.weekday() < 5 and not is_business_day(day):
            found[day] = federal_holiday_name(day)
        day += timedelta(days=1)
    assert found == expected


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 3, 17),  # St Patrick's Day (unofficial)
        date(2026, 4, 3),  # Good Friday (state holiday in some states only)
        date(2026, 4, 20),  # Patriots' Day (MA/ME only)
        date(2029, 1, 22),  # Mon after Inauguration Sat 2029-01-20: no federal observance
        date(2026, 12, 24),  # Christmas Eve: not a 5 U.S.C. 6103 holiday
        date(2026, 11, 27),  # Day after Thanksgiving: state holiday only
        date(2028, 11, 7),  # Election Day: not a federal holiday
        date(2026, 3, 31),  # Cesar Chavez Day (CA only)
    ],
)
def test_no_state_only_or_unofficial_holidays(day: date) -> None:
    assert day.weekday() < 5
    assert federal_holiday_name(day) is None
    assert is_business_day(day)


def test_weekends_are_not_business_days() -> None:
    assert not is_business_day(date(2026, 4, 11))  # Saturday
    assert not is_business_day(date(2026, 4, 12))  # Sunday
    assert is_business_day(date(2026, 4, 13))  # Monday


def test_july_4_2026_saturday_observed_friday() -> None:
    assert federal_holiday_name(date(2026, 7, 4)) == "Independence Day"
    assert federal_holiday_name(date(2026, 7, 3)) == "Independence Day (observed)"
    assert not is_business_day(date(2026, 7, 3))
    assert is_business_day(date(2026, 7, 6))  # the Monday after is a normal day


def test_new_years_2022_saturday_observed_on_friday_of_previous_year() -> None:
    assert date(2022, 1, 1).weekday() == 5
    assert federal_holiday_name(date(2021, 12, 31)) == "New Year's Day (observed)"
    assert not is_business_day(date(2021, 12, 31))
    assert is_business_day(date(2022, 1, 3))


@pytest.mark.parametrize(
    ("observed", "name"),
    [
        (date(2021, 7, 5), "Independence Day (observed)"),  # Sun 2021-07-04
        (date(2022, 12, 26), "Christmas Day (observed)"),  # Sun 2022-12-25
        (date(2023, 1, 2), "New Year's Day (observed)"),  # Sun 2023-01-01
        (date(2022, 6, 20), "Juneteenth National Independence Day (observed)"),  # Sun
        (date(2023, 11, 10), "Veterans Day (observed)"),  # Sat 2023-11-11 -> Fri
    ],
)
def test_weekend_holidays_observed_on_adjacent_weekday(observed: date, name: str) -> None:
    assert federal_holiday_name(observed) == name
    assert not is_business_day(observed)


def test_juneteenth_from_2021_only() -> None:
    assert is_business_day(date(2020, 6, 19))  # Friday, before the 2021 Act
    assert federal_holiday_name(date(2020, 6, 19)) is None
    assert not is_business_day(date(2021, 6, 18))  # Sat 2021-06-19 observed Friday
    assert not is_business_day(date(2024, 6, 19))  # Wednesday
    assert federal_holiday_name(date(2024, 6, 19)) == "Juneteenth National Independence Day"


def test_calendar_range_is_enforced() -> None:
    assert CALENDAR_FIRST_YEAR == 1971
    assert CALENDAR_LAST_YEAR >= 2100
    with pytest.raises(DetainerClockError, match=r"^day: .*outside"):
        is_business_day(date(CALENDAR_LAST_YEAR + 1, 3, 3))
    with pytest.raises(DetainerClockError, match=r"^day: .*outside"):
        federal_holiday_name(date(1950, 7, 4))
    with pytest.raises(DetainerClockError, match=r"^day: .*outside"):
        is_business_day(date(CALENDAR_LAST_YEAR + 1, 3, 6))  # weekend too


@pytest.mark.parametrize("bad", [datetime(2026, 7, 3, 12), "2026-07-03", 20260703, None])
def test_calendar_functions_want_a_date(bad: object) -> None:
    with pytest.raises(DetainerClockError, match=r"^day: "):
        is_business_day(bad)  # type: ignore[arg-type]
    with pytest.raises(DetainerClockError, match=r"^day: "):
        federal_holiday_name(bad)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- hold_until examples


def test_design_example_friday_to_tuesday() -> None:
    start = local(NY, 2026, 4, 10, 17)  # Friday
    end = hold_until(start, NY)
    assert wall(end) == datetime(2026, 4, 14, 17)  # Tuesday
    assert end.weekday() == 1
    assert isinstance(end.tzinfo, ZoneInfo)
    assert end.tzinfo.key == NY
    assert end.isoformat() == "2026-04-14T17:00:00-04:00"


def test_design_example_monday_holiday_pushes_to_wednesday() -> None:
    start = local(NY, 2026, 1, 16, 17)  # Friday before MLK Day (Mon 2026-01-19)
    assert wall(hold_until(start, NY)) == datetime(2026, 1, 21, 17)


def test_default_hold_is_48_hours() -> None:
    start = local(NY, 2026, 4, 13, 9)  # Monday
    assert hold_until(start, NY) == hold_until(start, NY, hold_hours=48)
    assert wall(hold_until(start, NY)) == datetime(2026, 4, 15, 9)


def test_thanksgiving_week() -> None:
    # Wed 17-24 = 7h; Thu (Thanksgiving) skipped; Fri = 24h (31h); Sat/Sun skipped;
    # Mon 17h more -> Monday 17:00.
    start = local(NY, 2026, 11, 25, 17)
    assert federal_holiday_name(date(2026, 11, 26)) == "Thanksgiving Day"
    assert wall(hold_until(start, NY)) == datetime(2026, 11, 30, 17)


def test_july_4_2026_observed_friday_is_skipped() -> None:
    # Thu 7h, Fri Jul 3 (observed) skipped, weekend skipped, Mon 24h (31h), Tue 17h.
    start = local(NY, 2026, 7, 2, 17)
    assert wall(hold_until(start, NY)) == datetime(2026, 7, 7, 17)


def test_new_years_2022_observed_on_dec_31_2021() -> None:
    # Thu 2021-12-30 7h, Fri 12-31 (observed New Year) skipped, Sat/Sun, Mon 24h, Tue 17h.
    start = local(NY, 2021, 12, 30, 17)
    assert wall(hold_until(start, NY)) == datetime(2022, 1, 4, 17)


def test_sunday_holiday_observed_monday() -> None:
    # July 4, 2021 was a Sunday, observed Monday July 5: Fri 7h, Mon skipped, Tue 24h, Wed 17h.
    start = local(NY, 2021, 7, 2, 17)
    assert wall(hold_until(start, NY)) == datetime(2021, 7, 7, 17)


def test_juneteenth_counts_in_2020_but_not_2021() -> None:
    # 2020-06-19 was an ordinary Friday.
    assert wall(hold_until(local(NY, 2020, 6, 18, 17), NY)) == datetime(2020, 6, 22, 17)
    # 2021-06-18 (Friday) was the observed Juneteenth: Thu 7h, Mon 24h, Tue 17h.
    assert wall(hold_until(local(NY, 2021, 6, 17, 17), NY)) == datetime(2021, 6, 22, 17)


def test_saturday_release_starts_clock_monday_midnight() -> None:
    start = local(NY, 2026, 4, 11, 10)  # Saturday 10:00
    end = hold_until(start, NY)
    assert wall(end) == datetime(2026, 4, 15, 0, 0)  # Wednesday 00:00
    # The clock only started Monday 00:00: one counted hour lands Monday 01:00.
    assert wall(hold_until(start, NY, hold_hours=1)) == datetime(2026, 4, 13, 1)


def test_hold_ending_exactly_at_midnight_before_weekend() -> None:
    # Thu 00:00 + 48 counted hours = end of Friday, i.e. Saturday 00:00 - not Monday.
    assert wall(hold_until(local(NY, 2026, 4, 9, 0), NY)) == datetime(2026, 4, 11, 0)


def test_fractional_hold_hours() -> None:
    start = local(NY, 2026, 4, 10, 23)  # Friday 23:00
    end = hold_until(start, NY, hold_hours=1.5)
    assert wall(end) == datetime(2026, 4, 13, 0, 30)  # 1h Friday + 0.5h Monday


def test_dst_spring_forward_is_on_an_excluded_sunday() -> None:
    # 2026-03-08 (Sunday) springs forward in New York; Sundays do not count, so
    # the counted answer is unaffected: Fri 17:00 -> Tue 17:00 wall clock.
    start = local(NY, 2026, 3, 6, 17)
    end = hold_until(start, NY)
    assert wall(end) == datetime(2026, 3, 10, 17)
    assert end.utcoffset() == timedelta(hours=-4)
    assert start.utcoffset() == timedelta(hours=-5)
    assert business_hours_between(start, end, NY) == pytest.approx(48)


def test_dst_spring_forward_real_elapsed_without_exclusion() -> None:
    start = local(NY, 2026, 3, 7, 12)  # Saturday noon EST
    end = hold_until(start, NY, exclude_non_business_days=False)
    assert utc(end) - utc(start) == timedelta(hours=48)
    assert wall(end) - wall(start) == timedelta(hours=49)  # wall clock shows 49h
    assert wall(end) == datetime(2026, 3, 9, 13)


def test_dst_fall_back_real_elapsed_without_exclusion() -> None:
    start = local(NY, 2026, 10, 31, 12)  # Saturday noon EDT; falls back Sun 2026-11-01
    end = hold_until(start, NY, exclude_non_business_days=False)
    assert utc(end) - utc(start) == timedelta(hours=48)
    assert wall(end) - wall(start) == timedelta(hours=47)  # wall clock shows 47h
    assert wall(end) == datetime(2026, 11, 2, 11)


def test_23_hour_business_day_counts_real_hours() -> None:
    # Israel springs forward on Friday 2026-03-27 (a business day of 23 real hours).
    tz = "Asia/Jerusalem"
    friday = local(tz, 2026, 3, 27)
    assert business_hours_between(friday, local(tz, 2026, 3, 28), tz) == pytest.approx(23)
    # Thu 24h + Fri 23h = 47h; 1 more hour on Monday.
    assert wall(hold_until(local(tz, 2026, 3, 26), tz)) == datetime(2026, 3, 30, 1)


def test_25_hour_business_day_counts_real_hours() -> None:
    # Egypt falls back at the end of Thursday 2026-10-29 (25 real hours).
    tz = "Africa/Cairo"
    thursday = local(tz, 2026, 10, 29)
    assert business_hours_between(thursday, local(tz, 2026, 10, 30), tz) == pytest.approx(25)
    # Thu 25h + 23h on Friday -> Friday 23:00.
    assert wall(hold_until(thursday, tz)) == datetime(2026, 10, 30, 23)


def test_business_day_starting_in_a_midnight_dst_gap() -> None:
    # Egypt springs forward at 00:00 on Friday 2026-04-24: local midnight never occurs,
    # the day starts at 01:00 and is 23 hours long.
    tz = "Africa/Cairo"
    start = local(tz, 2026, 4, 23, 12)  # Thursday noon
    end = hold_until(start, tz, hold_hours=12 + 23)
    assert wall(end) == datetime(2026, 4, 25, 0)  # end of Friday
    assert wall(hold_until(start, tz, hold_hours=13)) == datetime(2026, 4, 24, 2)


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Pacific/Honolulu", "America/Phoenix"])
def test_same_wall_clock_answer_across_zones(zone: str) -> None:
    cases = [
        ((2026, 4, 10, 17), datetime(2026, 4, 14, 17)),
        ((2026, 11, 25, 17), datetime(2026, 11, 30, 17)),
        ((2026, 3, 6, 17), datetime(2026, 3, 10, 17)),  # DST weekend (not in HI/AZ)
        ((2026, 4, 11, 10), datetime(2026, 4, 15, 0)),
    ]
    for args, expected in cases:
        answer = hold_until(local(zone, *args), zone)
        reference = hold_until(local("America/Chicago", *args), "America/Chicago")
        assert wall(answer) == wall(reference) == expected
        assert answer.tzinfo == ZoneInfo(zone)


def test_aware_utc_input_is_converted_to_facility_time() -> None:
    # Saturday 00:30 UTC is still Friday 17:30 in Los Angeles (PDT, UTC-7).
    start = datetime(2026, 4, 11, 0, 30, tzinfo=UTC)
    end = hold_until(start, LA)
    assert end.isoformat() == "2026-04-14T17:30:00-07:00"
    # Counting in UTC instead would have started on Monday and ended Wed 00:00 UTC.
    assert wall(hold_until(start, "UTC")) == datetime(2026, 4, 15, 0, 0)


def test_zoneinfo_object_accepted() -> None:
    start = local(NY, 2026, 4, 10, 17)
    assert hold_until(start, ZoneInfo(NY)) == hold_until(start, NY)


def test_plain_elapsed_mode_ignores_weekends_and_holidays() -> None:
    start = local(NY, 2026, 7, 2, 17)
    end = hold_until(start, NY, exclude_non_business_days=False)
    assert wall(end) == datetime(2026, 7, 4, 17)


# --------------------------------------------------------------------------- business_hours_between


def test_business_hours_between_counts_only_business_days() -> None:
    start = local(NY, 2026, 4, 10, 17)  # Fri 17:00
    assert business_hours_between(start, local(NY, 2026, 4, 13, 0), NY) == pytest.approx(7)
    assert business_hours_between(start, local(NY, 2026, 4, 14, 17), NY) == pytest.approx(48)
    assert business_hours_between(start, start, NY) == 0
    weekend = business_hours_between(local(NY, 2026, 4, 11), local(NY, 2026, 4, 13), NY)
    assert weekend == 0
    plain = business_hours_between(
        local(NY, 2026, 4, 11), local(NY, 2026, 4, 13), NY, exclude_non_business_days=False
    )
    assert plain == pytest.approx(48)


def test_business_hours_between_rejects_reversed_interval() -> None:
    with pytest.raises(DetainerClockError, match=r"^end: "):
        business_hours_between(local(NY, 2026, 4, 14), local(NY, 2026, 4, 13), NY)


def test_business_hours_between_rejects_naive() -> None:
    with pytest.raises(DetainerClockError, match=r"^start: "):
        business_hours_between(datetime(2026, 4, 13), local(NY, 2026, 4, 14), NY)
    with pytest.raises(DetainerClockError, match=r"^end: "):
        business_hours_between(local(NY, 2026, 4, 13), datetime(2026, 4, 14), NY)


# --------------------------------------------------------------------------- parse_release_time


def test_parse_naive_is_facility_local() -> None:
    parsed = parse_release_time("2026-04-10T17:00:00", NY)
    assert parsed == local(NY, 2026, 4, 10, 17)
    assert parsed.tzinfo == ZoneInfo(NY)
    assert parse_release_time(" 2026-04-10 17:00 ", NY) == parsed


def test_parse_aware_is_kept() -> None:
    parsed = parse_release_time("2026-04-11T00:30:00Z", LA)
    assert parsed.utcoffset() == timedelta(0)
    assert utc(parsed) == datetime(2026, 4, 11, 0, 30, tzinfo=UTC)
    offset = parse_release_time("2026-04-10T17:30:00-07:00", NY)
    assert offset.utcoffset() == timedelta(hours=-7)
    assert hold_until(parsed, LA) == hold_until(offset, LA)


def test_parse_ambiguous_local_time_takes_earlier_instant() -> None:
    parsed = parse_release_time("2026-11-01T01:30", NY)
    assert parsed.utcoffset() == timedelta(hours=-4)  # EDT, the first 01:30


def test_parse_nonexistent_local_time_rejected() -> None:
    with pytest.raises(DetainerClockError, match=r"^text: .*does not exist"):
        parse_release_time("2026-03-08T02:30", NY)


@pytest.mark.parametrize(
    "text",
    ["", "garbage", "2026-13-01T00:00", "2026-02-30T10:00", "17:00", "2026-04-10", "tomorrow"],
)
def test_parse_garbage_names_field(text: str) -> None:
    with pytest.raises(DetainerClockError, match=r"^text: ") as info:
        parse_release_time(text, NY)
    if text:
        assert repr(text) in str(info.value)


def test_parse_non_string_and_long_garbage() -> None:
    with pytest.raises(DetainerClockError, match=r"^text: "):
        parse_release_time(1234, NY)  # type: ignore[arg-type]
    with pytest.raises(DetainerClockError, match=r"^text: ") as info:
        parse_release_time("x" * 100_000, NY)
    assert len(str(info.value)) < 300


def test_parse_unknown_timezone_names_value() -> None:
    with pytest.raises(DetainerClockError, match=r"^timezone: .*Mars/Olympus"):
        parse_release_time("2026-04-10T17:00", "Mars/Olympus")


# --------------------------------------------------------------------------- hostile inputs


def test_naive_release_time_rejected() -> None:
    with pytest.raises(DetainerClockError, match=r"^release_eligible: naive"):
        hold_until(datetime(2026, 4, 10, 17), NY)


@pytest.mark.parametrize("bad", [date(2026, 4, 10), "2026-04-10T17:00", 1775851200, None])
def test_non_datetime_release_time_rejected(bad: object) -> None:
    with pytest.raises(DetainerClockError, match=r"^release_eligible: "):
        hold_until(bad, NY)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "zone", ["Mars/Olympus", "", "../../etc/passwd", "/etc/localtime", "America", "x" * 5000]
)
def test_unknown_timezone_rejected(zone: str) -> None:
    with pytest.raises(DetainerClockError, match=r"^timezone: ") as info:
        hold_until(local(NY, 2026, 4, 10, 17), zone)
    if zone == "Mars/Olympus":
        assert "Mars/Olympus" in str(info.value)


@pytest.mark.parametrize("zone", [None, 5, UTC])
def test_timezone_wrong_type_rejected(zone: object) -> None:
    with pytest.raises(DetainerClockError, match=r"^timezone: "):
        hold_until(local(NY, 2026, 4, 10, 17), zone)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "hours", [0, -1, -0.5, 0.0, math.nan, math.inf, -math.inf, 1e-12, True, "48", None, 10**400]
)
def test_bad_hold_hours_rejected(hours: object) -> None:
    with pytest.raises(DetainerClockError, match=r"^hold_hours: "):
        hold_until(local(NY, 2026, 4, 10, 17), NY, hold_hours=hours)  # type: ignore[arg-type]


@pytest.mark.parametrize("flag", ["False", 0, 1, None])
def test_exclude_flag_must_be_bool(flag: object) -> None:
    with pytest.raises(DetainerClockError, match=r"^exclude_non_business_days: "):
        hold_until(local(NY, 2026, 4, 10, 17), NY, exclude_non_business_days=flag)  # type: ignore[arg-type]


def test_results_out_of_range_rejected() -> None:
    with pytest.raises(DetainerClockError, match=r"^release_eligible: "):
        hold_until(datetime(9999, 12, 31, 12, tzinfo=UTC), NY, exclude_non_business_days=False)
    with pytest.raises(DetainerClockError, match=r"^hold_hours: "):
        hold_until(local(NY, 2026, 4, 10, 17), NY, hold_hours=1e300)
    with pytest.raises(DetainerClockError, match=r"^release_eligible: .*outside"):
        hold_until(local(NY, CALENDAR_LAST_YEAR, 12, 31, 12), NY, hold_hours=48)
    with pytest.raises(DetainerClockError, match=r"^release_eligible: .*outside"):
        hold_until(local(NY, 1960, 1, 4, 12), NY)
    # Elapsed mode needs no calendar.
    old = hold_until(local(NY, 1960, 1, 4, 12), NY, exclude_non_business_days=False)
    assert wall(old) == datetime(1960, 1, 6, 12)


# --------------------------------------------------------------------------- properties

ZONES = st.sampled_from([ZoneInfo(z) for z in [*US_ZONES, "UTC", "Asia/Jerusalem"]])
STARTS = st.datetimes(
    min_value=datetime(1990, 1, 1),
    max_value=datetime(2090, 12, 31),
    timezones=ZONES,
    allow_imaginary=False,
)
HOURS = st.one_of(
    st.integers(min_value=1, max_value=24 * 20),
    st.floats(min_value=1e-3, max_value=24 * 20, allow_nan=False, allow_infinity=False),
)
FACILITY = st.sampled_from(US_ZONES)


@settings(max_examples=300, deadline=None)
@given(start=STARTS, zone=FACILITY, hours=HOURS)
def test_property_result_after_start_and_inverse(start: datetime, zone: str, hours: float) -> None:
    end = hold_until(start, zone, hold_hours=hours)
    assert utc(end) > utc(start)
    assert end.tzinfo == ZoneInfo(zone)
    assert business_hours_between(start, end, zone) == pytest.approx(hours, abs=1e-6)
    # Just before the end, fewer hours have been counted.
    almost = business_hours_between(start, utc(end) - timedelta(microseconds=1), zone)
    assert almost < hours


@settings(max_examples=300, deadline=None)
@given(start=STARTS, zone=FACILITY, hours=HOURS)
def test_property_elapsed_mode_is_exact(start: datetime, zone: str, hours: float) -> None:
    end = hold_until(start, zone, hold_hours=hours, exclude_non_business_days=False)
    assert utc(end) - utc(start) == timedelta(hours=hours)
    counted = hold_until(start, zone, hold_hours=hours)
    assert utc(counted) >= utc(end)  # excluding days can only lengthen the hold


@settings(max_examples=300, deadline=None)
@given(
    start=STARTS,
    delta=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10)),
    zone=FACILITY,
    hours=HOURS,
)
def test_property_monotonic(start: datetime, delta: timedelta, zone: str, hours: float) -> None:
    later = (utc(start) + delta).astimezone(start.tzinfo)
    assert utc(hold_until(later, zone, hold_hours=hours)) >= utc(
        hold_until(start, zone, hold_hours=hours)
    )


@settings(max_examples=200, deadline=None)
@given(start=STARTS, zone=FACILITY)
def test_property_input_zone_irrelevant(start: datetime, zone: str) -> None:
    assert hold_until(start, zone) == hold_until(start.astimezone(UTC), zone)
    assert hold_until(start, zone).isoformat() == hold_until(utc(start), zone).isoformat()


@settings(max_examples=200, deadline=None)
@given(
    day=st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)),
)
def test_property_business_day_definition(day: date) -> None:
    name = federal_holiday_name(day)
    assert is_business_day(day) == (day.weekday() < 5 and name is None)
