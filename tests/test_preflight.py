"""Fail closed at start-up (issue 9 item 4): every check names the setting or file at fault."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from securecomm.interop.settings import PipelineSettings, SettingsError, load_settings
from securecomm.preflight import (
    PreflightError,
    check_biographic_model,
    check_counts,
    check_data_dir,
    check_database_url,
    check_holiday_calendar,
    check_jurisdiction_zones,
    check_policies,
    check_settings,
)


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"match_threshold": 0.0}, "match_threshold: 0 is outside (0, 1]"),
        ({"match_threshold": -0.5}, "match_threshold"),
        ({"match_threshold": 1.5}, "match_threshold"),
        ({"match_threshold": float("nan")}, "match_threshold"),
        ({"verification_band_low": 0.0}, "verification_band_low"),
        ({"verification_band_low": 0.9, "match_threshold": 0.8}, "above match_threshold"),
        ({"min_template_quality": -0.1}, "min_template_quality"),
    ],
)
def test_settings_out_of_range_are_refused(changes, needle):
    with pytest.raises(PreflightError) as exc:
        check_settings(PipelineSettings(**changes))
    assert needle in str(exc.value)


def test_default_settings_pass():
    check_settings(PipelineSettings())


def test_match_threshold_zero_in_the_config_file_is_refused(tmp_path, monkeypatch):
    config = tmp_path / "pipeline.yaml"
    config.write_text("match_threshold: 0\n")
    monkeypatch.setenv("SECURECOMM_PIPELINE_CONFIG", str(config))
    try:
        settings = load_settings()
    except SettingsError as exc:  # refused while loading is as good
        assert "match_threshold" in str(exc)
        return
    with pytest.raises(PreflightError, match="match_threshold"):
        check_settings(settings)


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "3"])
def test_counts_must_be_whole_and_positive(value):
    with pytest.raises(PreflightError, match="--max-batches"):
        check_counts(max_batches=value)


def test_counts_pass():
    check_counts(batch_size=1, max_batches=None)


def test_unknown_policy_in_the_schedule_is_refused():
    settings = PipelineSettings(policy_entries=((dt.date(2011, 1, 1), "no-such-pack"),))
    with pytest.raises(PreflightError, match="policy_schedule"):
        check_policies(settings)


@pytest.mark.parametrize(
    "url", ["mysql://u@h/d", "oracle://u@h/d", "postgresql+asyncpg://u@h/d", "nonsense"]
)
def test_unsupported_database_urls(url):
    with pytest.raises(PreflightError, match="--url"):
        check_database_url(url)


def test_holiday_calendar_must_cover_next_year(monkeypatch):
    from securecomm.law import detainer_clock

    check_holiday_calendar()
    monkeypatch.setattr(detainer_clock, "CALENDAR_LAST_YEAR", dt.date.today().year)
    with pytest.raises(PreflightError, match="holiday calendar"):
        check_holiday_calendar()


def test_data_dir(tmp_path):
    check_data_dir(tmp_path / "new" / "dir")  # can be created
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(PreflightError, match="is a file"):
        check_data_dir(blocker)


def test_biographic_model_missing_or_unreadable_stops_when_ident_has_encounters(tmp_path):
    path = tmp_path / "securecomm.biographic-model.json"
    assert check_biographic_model(path, encounters=0) is False  # nothing to link against
    with pytest.raises(PreflightError, match="missing") as exc:
        check_biographic_model(path, encounters=12)
    assert "would be skipped" in str(exc.value)
    path.write_text("{not json")
    with pytest.raises(PreflightError, match="unreadable"):
        check_biographic_model(path, encounters=12)


def test_invalid_jurisdiction_zone_stops_the_worker(db):
    from securecomm.store.repositories import upsert_jurisdiction

    with db.session() as s, s.begin():
        upsert_jurisdiction(s, "CO0010000", name="Adams County", state="CO",
                            timezone="America/Denver")  # fmt: skip
    with db.session() as s:
        assert check_jurisdiction_zones(s) == 1
    with db.engine.begin() as conn:  # edited behind the store's back
        conn.execute(text("UPDATE jurisdictions SET timezone = 'Mars/Olympus'"))
    with db.session() as s, pytest.raises(PreflightError, match="CO0010000"):
        check_jurisdiction_zones(s)
