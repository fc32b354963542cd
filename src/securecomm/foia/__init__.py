"""Real ICE records released under FOIA: importers, the Task Force's measures on them, reports.

``sources`` describes each release (files, columns, vocabularies); ``reader`` parses one file
into typed rows with a status per cell and a rejects list; ``importer`` writes the Parquet
tables (docs/formats.md, "FOIA tables"); ``charges`` classifies the free-text convictions with
the policy engine's classifier; ``measures`` / ``report`` / ``summary`` publish the figures.
"""
