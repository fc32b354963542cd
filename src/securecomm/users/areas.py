"""ICE Enforcement and Removal Operations areas of responsibility (AORs).

An ICE officer or supervisor works the cases of one or more AORs (their ``--area``); a
jurisdiction belongs to the AOR of its county. The county-to-AOR table is the UW Center for
Human Rights crosswalk (``securecomm/data/county_aor.csv``; provenance in
``securecomm/data/README.md``), read once. No database access.
"""

from __future__ import annotations

import csv
import functools
from importlib import resources

__all__ = ["aor_of_county", "area_codes", "county_aors", "field_offices"]


@functools.cache
def county_aors() -> dict[str, str]:
    """5-digit county FIPS -> AOR code (e.g. ``"53033"`` -> ``"SEA"``)."""
    with (resources.files("securecomm") / "data" / "county_aor.csv").open(encoding="utf-8") as fh:
        return {row["geoid"].strip(): row["aor"].strip() for row in csv.DictReader(fh)}


@functools.cache
def area_codes() -> frozenset[str]:
    """Every AOR code a county belongs to (the values an ``--area`` may take)."""
    return frozenset(county_aors().values())


@functools.cache
def field_offices() -> dict[str, str]:
    """AOR code -> ERO field office address (``aor_ero_field_office.csv``)."""
    path = resources.files("securecomm") / "data" / "aor_ero_field_office.csv"
    with path.open(encoding="utf-8") as fh:
        return {row["aor"].strip(): row["field_office_addr"].strip() for row in csv.DictReader(fh)}


def aor_of_county(fips: str | None) -> str | None:
    """The AOR of a county given by its 5-digit FIPS code, or None (unknown or malformed)."""
    if not isinstance(fips, str) or len(fips) != 5 or not fips.isascii() or not fips.isdigit():
        return None
    return county_aors().get(fips)
