"""Bulk evaluation: the rule expressions of ``securecomm.law`` compiled to Ibis (DuckDB, PySpark).

- ``ibis_compiler.compile_outcomes(bound, table)``: the outcome columns of
  ``CompiledPack.evaluate`` (plus ``conflict``) for a whole table of flat case records;
- ``caseload``: Case v1 JSON Lines -> validated Parquet caseload (rejects kept, never dropped),
  and checking / reading a Parquet caseload;
- ``evaluate.evaluate_caseload``: packs over a caseload -> decision files and comparisons;
  ``decisions_from_outcomes`` turns bulk rows into Decision v1;
- ``backends``: DuckDB connections and the process-wide local Spark session;
- ``synthetic``: vectorized generator of large flat caseloads; ``benchmark``: timings;
- ``testing``: Hypothesis strategies for Case v1 (tests only).

Single-case and bulk evaluation read the same expression trees, so they cannot drift apart;
``tests/bulk`` property-tests that they give identical outcome columns and Decision v1 objects.
Nothing here is imported by ``import securecomm.bulk`` (Ibis and PyArrow load on first use).
"""
