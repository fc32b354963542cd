"""Fixtures of the statistics tests: one DuckDB connection per run."""

from __future__ import annotations

import pytest

from securecomm.bulk.backends import duckdb_connection


@pytest.fixture(scope="session")
def duck():
    return duckdb_connection()
