"""Fixtures of the bulk tests: one DuckDB connection, one Spark session per run."""

from __future__ import annotations

import pytest

from securecomm.bulk.backends import duckdb_connection, spark_connection


@pytest.fixture(scope="session")
def duck():
    return duckdb_connection()


@pytest.fixture(scope="session")
def spark():
    pytest.importorskip("pyspark")
    return spark_connection()
