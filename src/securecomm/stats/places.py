"""County names for the published statistics (issue 11 item 5: places named by county, not
only by ORI).

The names come from addfips' packaged county list through the synthetic nation's own reader
(``synth.jurisdictions.counties``) so there is one county list in the project. A jurisdiction
whose county FIPS is missing or not in that list keeps its row and is labelled
``UNKNOWN_COUNTY``: a published table never drops a place because its name is unknown.
"""

from __future__ import annotations

import functools

import pyarrow as pa

from securecomm.synth.jurisdictions import counties

UNKNOWN_COUNTY = "unknown county"


@functools.cache
def _by_fips() -> dict[str, tuple[str, str]]:
    return {fips: (name, state) for state, fips, name in counties()}


def county_name(county_fips: str | None) -> str:
    """Name of the county with this 5-digit FIPS (e.g. "Travis County"), else UNKNOWN_COUNTY."""
    hit = _by_fips().get(county_fips or "")
    return hit[0] if hit else UNKNOWN_COUNTY


def county_state(county_fips: str | None) -> str | None:
    """Postal code of the county's state, or None when the FIPS is unknown."""
    hit = _by_fips().get(county_fips or "")
    return hit[1] if hit else None


def with_county_names(table: pa.Table) -> pa.Table:
    """``table`` (with a ``county_fips`` column) plus ``county_name`` after it; a ``state``
    column is added from the FIPS only when the table has none (an existing one is kept)."""
    fips = table.column("county_fips").to_pylist()
    at = table.schema.get_field_index("county_fips") + 1
    out = table.add_column(at, "county_name", pa.array([county_name(f) for f in fips], pa.string()))
    if "state" not in out.schema.names:
        out = out.add_column(at, "state", pa.array([county_state(f) for f in fips], pa.string()))
    return out
