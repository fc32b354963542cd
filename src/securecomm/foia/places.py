"""Landmarks and facilities placed in a county and an ICE area of responsibility.

Only where the text names a county ("YAKIMA COUNTY JAIL", "FRANKLIN CO. JAIL") and that name
is a county of exactly one state in scope: the Seattle releases are limited to the Seattle AOR's
counties (crosswalk ``aor == "SEA"``), the NPR and DDP rows to their row's state. Anything else
(a city jail, a state prison, "SEA CAP") stays unplaced: ``place_match`` says which. A state whose
counties all belong to one AOR gives that AOR without a county (``place_match = "state"``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

SEATTLE_AOR = "SEA"
_COUNTY = re.compile(r"^\s*(?:THE\s+)?([A-Z][A-Z .'-]*?)\s+(?:COUNTY|CO\.?|CNTY)(?=$|[\s,.(/-])")


class Locator:
    def __init__(self, counties: Iterable[Mapping[str, Any]]):
        # (county name, state name) -> (geoid, aor); state name -> set of AORs
        self.by_state: dict[tuple[str, str], tuple[str, str]] = {}
        self.by_aor: dict[str, dict[str, list[tuple[str, str]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        self.state_aors: dict[str, set[str]] = defaultdict(set)
        for row in counties:
            name, _, state = (row.get("county_name") or "").rpartition(", ")
            county = re.sub(r"\s+(county|parish|borough|census area|municipio|city and borough)$",
                            "", name).upper()  # fmt: skip
            state = state.upper()
            geoid, aor = row.get("geoid"), row.get("aor")
            if not (county and state and geoid and aor):
                continue
            self.by_state[(county, state)] = (geoid, aor)
            self.by_aor[aor][county].append((geoid, aor))
            self.state_aors[state].add(aor)

    def locate(self, place: str | None, state: str | None) -> tuple[str | None, str | None, str]:
        """(county geoid, AOR, how) of a landmark or facility."""
        if not place:
            return None, None, "none"
        m = _COUNTY.match(place.upper())
        if state:
            state = state.upper()
            if m and (hit := self.by_state.get((m[1].strip(), state))):
                return hit[0], hit[1], "county"
            aors = self.state_aors.get(state, set())
            if len(aors) == 1:
                return None, next(iter(aors)), "state"
            return None, None, "none"
        if m:
            hits = self.by_aor[SEATTLE_AOR].get(m[1].strip(), [])
            if len(hits) == 1:
                return hits[0][0], hits[0][1], "county"
        return None, None, "none"
