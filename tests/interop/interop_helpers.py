"""Shared constants and helpers of the pipeline tests (imported by name: tests are not a package)."""

from __future__ import annotations

import datetime as dt

#: The processing time the tests' worker clock reports.
T_NOW = dt.datetime(2012, 10, 15, 12, 0, tzinfo=dt.UTC)


def usable(truth: dict) -> bool:
    """The booking carried a template of usable quality (ground truth)."""
    return bool(truth["template"]) and truth["quality"] is not None and truth["quality"] >= 40
