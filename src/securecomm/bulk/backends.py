"""Ibis connections for bulk evaluation: DuckDB (default) and PySpark local mode.

A Spark session is slow to create (seconds), so one is created lazily and reused for the
whole process (``spark_session``). DuckDB connections are cheap; each evaluation gets its own.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import threading
from typing import Any

import ibis

ENGINES = ("duckdb", "spark")

_spark_lock = threading.Lock()
_spark: dict[str, Any] = {}


def duckdb_connection(*, threads: int | None = None, memory_limit: str | None = None):
    """An in-memory DuckDB connection set up for the ibis expressions of this package.

    DuckDB 2 rejects the ``x -> ...`` lambda syntax by default; ibis 12 still emits it for
    ``ArrayValue.filter`` / ``map``, so the legacy syntax is switched back on here.
    """
    con = ibis.duckdb.connect()
    con.raw_sql("SET lambda_syntax = 'ENABLE_SINGLE_ARROW'")
    if threads is not None:
        con.raw_sql(f"SET threads = {int(threads)}")
    if memory_limit is not None:
        # a setting cannot be a bound parameter: only a plain size reaches the SQL text
        if not re.fullmatch(r"[0-9]+(\.[0-9]+)? ?([KMGT]i?B|B)", memory_limit):
            raise ValueError(f"memory_limit: a size such as '4GB', got {memory_limit!r}")
        con.raw_sql(f"SET memory_limit = '{memory_limit}'")
    return con


def spark_session():
    """The process-wide local-mode SparkSession (``local[2]``, no UI, quiet logs)."""
    with _spark_lock:
        if "session" not in _spark:
            from pyspark.sql import SparkSession

            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            builder = (
                SparkSession.builder.master(os.environ.get("SECURECOMM_SPARK_MASTER", "local[2]"))
                .appName("securecomm-bulk")
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.sql.shuffle.partitions", "4")
                .config("spark.default.parallelism", "2")
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="securecomm-spark-"))
                .config("spark.driver.memory", os.environ.get("SECURECOMM_SPARK_MEMORY", "2g"))
                .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            )
            session = builder.getOrCreate()
            session.sparkContext.setLogLevel("ERROR")
            _spark["session"] = session
        return _spark["session"]


def spark_connection():
    """An ibis PySpark backend over the process-wide session."""
    with _spark_lock:
        con = _spark.get("ibis")
    if con is None:
        con = ibis.pyspark.connect(spark_session())
        with _spark_lock:
            _spark["ibis"] = con
    return con


def connect(engine: str):
    if engine == "duckdb":
        return duckdb_connection()
    if engine == "spark":
        return spark_connection()
    raise ValueError(f"engine: one of {ENGINES}, got {engine!r}")
