"""Generator parameters of the synthetic nation: loading and validation of nation_params.yaml.

Every parameter is a mapping with ``value`` and ``source``; interpretations and synthetic
values carry a ``rationale``; values tuned by ``securecomm synth calibrate`` carry
``calibrated: true`` and the ``target`` they were tuned to. Any problem raises ``ParamsError``
naming the parameter (and the key or member) and the offending value.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from securecomm.law.flatten import FLAG_NAMES
from securecomm.law.ncic import NCIC_OFFENSES
from securecomm.stats.schema import CONVICTION_STATUSES, STATUS_CATEGORIES

DEFAULT_PATH = Path(__file__).with_name("nation_params.yaml")
MAX_BYTES = 1_000_000  # a parameter file is small; refuse anything bigger unread

# a person's true status: every DESIGN 3.2 value but "unknown" (which only the LESC can answer)
TRUE_STATUSES = tuple(s for s in STATUS_CATEGORIES if s != "unknown")
NONCITIZEN = TRUE_STATUSES[2:]
CONVICTION = CONVICTION_STATUSES
RACES = ("W", "B", "A", "I", "U")
DISPOSITIONS = ("pending", "convicted", "dismissed", "acquitted")
SEVERITIES = ("infraction", "misdemeanor", "felony")
RELIEFS = ("u_visa", "t_visa", "vawa", "asylum")
DERIVED_FLAGS = ("us_citizen_or_lpr_family",)  # computed from usc_family / lpr_family


class ParamsError(ValueError):
    """nation_params.yaml is malformed; the message names the parameter."""


@dataclass(frozen=True)
class Param:
    name: str
    value: Any
    source: str
    rationale: str | None
    calibrated: bool
    target: str | None


class Params(Mapping[str, Any]):
    """Parameter values by name (``params["x"]``); ``params.meta["x"]`` has the provenance."""

    def __init__(self, meta: dict[str, Param], path: Path | None):
        self.meta, self.path = meta, path

    def __getitem__(self, name: str) -> Any:
        return self.meta[name].value

    def __iter__(self):
        return iter(self.meta)

    def __len__(self) -> int:
        return len(self.meta)


# --------------------------------------------------------------------------- value checks


def _number(name: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ParamsError(f"{name}: expected a finite number, got {_show(v)}")
    return float(v)


def _prob(name: str, v: Any) -> float:
    x = _number(name, v)
    if not 0.0 <= x <= 1.0:
        raise ParamsError(f"{name}: expected a probability in [0, 1], got {_show(v)}")
    return x


def _positive(name: str, v: Any) -> float:
    x = _number(name, v)
    if x <= 0:
        raise ParamsError(f"{name}: expected a positive number, got {_show(v)}")
    return x


def _int(name: str, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise ParamsError(f"{name}: expected a non-negative integer, got {_show(v)}")
    return v


def _mapping(name: str, v: Any, keys: tuple[str, ...] | None, each: Callable) -> dict:
    if not isinstance(v, dict):
        raise ParamsError(f"{name}: expected a mapping, got {_show(v)}")
    out = {}
    for k, x in v.items():
        if not isinstance(k, str):
            raise ParamsError(f"{name}: keys must be strings, got {_show(k)}")
        if keys is not None and k not in keys:
            raise ParamsError(f"{name}: unknown key {k!r}; expected {', '.join(keys)}")
        out[k] = each(f"{name}.{k}", x)
    if keys is not None:
        missing = [k for k in keys if k not in out]
        if missing:
            raise ParamsError(f"{name}: missing key(s) {', '.join(missing)}")
    return out


def _mix(keys: tuple[str, ...] | None) -> Callable[[str, Any], dict]:
    def check(name: str, v: Any) -> dict:
        out = _mapping(name, v, keys, lambda n, x: _positive_or_zero(n, x))
        if not out or sum(out.values()) <= 0:
            raise ParamsError(f"{name}: weights must not all be zero")
        return out

    return check


def _positive_or_zero(name: str, v: Any) -> float:
    x = _number(name, v)
    if x < 0:
        raise ParamsError(f"{name}: expected a non-negative weight, got {_show(v)}")
    return x


def _probs(keys: tuple[str, ...] | None) -> Callable[[str, Any], dict]:
    return lambda name, v: _mapping(name, v, keys, _prob)


def _numbers(keys: tuple[str, ...]) -> Callable[[str, Any], dict]:
    return lambda name, v: _mapping(name, v, keys, _positive)


def _weights(length: int) -> Callable[[str, Any], list[float]]:
    def check(name: str, v: Any) -> list[float]:
        if not isinstance(v, list) or len(v) != length:
            raise ParamsError(f"{name}: expected a list of {length} weights, got {_show(v)}")
        out = [_positive_or_zero(f"{name}[{i}]", x) for i, x in enumerate(v)]
        if sum(out) <= 0:
            raise ParamsError(f"{name}: weights must not all be zero")
        return out

    return check


def _date(name: str, v: Any) -> dt.date:
    if isinstance(v, dt.datetime) or not isinstance(v, (dt.date, str)):
        raise ParamsError(f"{name}: expected a date YYYY-MM-DD, got {_show(v)}")
    if isinstance(v, str):
        try:
            return dt.date.fromisoformat(v)
        except ValueError:
            raise ParamsError(f"{name}: expected a date YYYY-MM-DD, got {_show(v)}") from None
    return v


def _milestones(name: str, v: Any) -> list[tuple[dt.date, int | None]]:
    """[{date: date, count: int | "all"}], dates and counts increasing; the last is "all"."""
    if not isinstance(v, list) or len(v) < 2:
        raise ParamsError(f"{name}: expected a list of at least two {{date, count}}, got {_show(v)}")
    out: list[tuple[dt.date, int | None]] = []
    for i, m in enumerate(v):
        where = f"{name}[{i}]"
        if not isinstance(m, dict) or set(m) != {"date", "count"}:
            raise ParamsError(f"{where}: expected a mapping with keys date, count, got {_show(m)}")
        on = _date(f"{where}.date", m["date"])
        count = None if m["count"] == "all" else _int(f"{where}.count", m["count"])
        if out and (on <= out[-1][0] or out[-1][1] is None or (count is not None
                                                               and count <= out[-1][1])):
            raise ParamsError(f"{where}: dates and counts must increase, got {_show(m)}")
        out.append((on, count))
    if out[-1][1] is not None:
        raise ParamsError(f"{name}: the last milestone's count must be 'all'")
    if out[0][1] is None or out[0][1] < 1:
        raise ParamsError(f"{name}[0].count: expected at least one pilot jurisdiction")
    return out


def _offenses(name: str, v: Any) -> list[dict[str, Any]]:
    if not isinstance(v, list) or not v:
        raise ParamsError(f"{name}: expected a non-empty list of offenses, got {_show(v)}")
    keys = {"ncic", "literal", "severity", "dv", "current", "prior"}
    out = []
    for i, o in enumerate(v):
        where = f"{name}[{i}]"
        if not isinstance(o, dict) or set(o) != keys:
            raise ParamsError(f"{where}: expected keys {', '.join(sorted(keys))}, got {_show(o)}")
        ncic = o["ncic"]
        if not isinstance(ncic, str) or ncic not in NCIC_OFFENSES:
            raise ParamsError(f"{where}.ncic: {_show(ncic)} is not an NCIC offense code")
        lit = o["literal"]
        if not isinstance(lit, str) or not lit.isascii() or not 0 < len(lit) <= 120:
            raise ParamsError(f"{where}.literal: expected 1-120 ASCII characters, got {_show(lit)}")
        if o["severity"] not in SEVERITIES:
            raise ParamsError(f"{where}.severity: expected one of {SEVERITIES}, got "
                              f"{_show(o['severity'])}")  # fmt: skip
        if not isinstance(o["dv"], bool):
            raise ParamsError(f"{where}.dv: expected true or false, got {_show(o['dv'])}")
        out.append({**o, "current": _positive_or_zero(f"{where}.current", o["current"]),
                    "prior": _positive_or_zero(f"{where}.prior", o["prior"])})  # fmt: skip
    for column in ("current", "prior"):
        if sum(o[column] for o in out) <= 0:
            raise ParamsError(f"{name}: the {column} weights must not all be zero")
    return out


def _show(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 80 else text[:77] + "..."


# name -> checker; the YAML must define exactly these
SPEC: dict[str, Callable[[str, Any], Any]] = {
    # population and jurisdictions
    "national_bookings_per_year": _positive,
    "us_population_2010": _positive,
    "county_population_median": _positive,
    "county_population_sigma": _positive,
    "foreign_born_share_by_state": _probs(None),
    "foreign_born_county_sigma": _positive,
    "border_county_foreign_born_factor": _positive,
    "disclosure_mix": _mix(("full", "public_safety_only", "none")),
    "honors_detainers_share": _prob,
    "rollout_milestones": _milestones,
    "rollout_first_activation": _date,
    "rollout_order_weights": _numbers(("log_population", "foreign_born", "border", "noise")),
    # people
    "hispanic_share": lambda n, v: _mapping(
        n, v, ("base", "per_foreign_born", "cap"), _positive_or_zero
    ),
    "ethnicity_unknown_share": _prob,
    "race_mix_hispanic": _mix(RACES),
    "race_mix_non_hispanic_us_born": _mix(RACES),
    "race_mix_non_hispanic_foreign_born": _mix(RACES),
    "status_mix_hispanic": _mix(TRUE_STATUSES),
    "status_mix_non_hispanic": _mix(TRUE_STATUSES),
    "birthplace_mix_hispanic": _mix(None),
    "birthplace_mix_non_hispanic": _mix(None),
    "age_gamma": _numbers(("shape", "scale_years", "min_years")),
    "recent_entry_share": _prob,
    "female_share": _prob,
    # identification
    "ident_enrollment": _probs(TRUE_STATUSES),
    "capture_usable_rate": _prob,
    "false_match_rate": _prob,
    "lesc_unknown_rate": _prob,
    "lesc_stale_naturalized_rate": _prob,
    "false_match_status_mix": _mix((*TRUE_STATUSES[2:], "unknown")),
    # criminal history
    "fbi_record_rate": _probs(TRUE_STATUSES),
    "prior_arrests_geometric_p": _prob,
    "prior_conviction_rate": _prob,
    "charges_per_booking": _mix(("1", "2", "3", "4")),
    "current_disposition_mix": _mix(DISPOSITIONS),
    "offense_catalog": _offenses,
    "injury_rate": _prob,
    "sentence_days_mix": _mix(("none", "0-30", "31-89", "90-364", "365-3650")),
    "suspended_rate": _prob,
    "explicit_aggravated_felony_rate": _prob,
    # immigration history and flags
    "final_order_rate": _probs(NONCITIZEN),
    "prior_removal_rate": _probs(NONCITIZEN),
    "pending_relief_rate": _probs(RELIEFS),
    "flag_rates": _probs(tuple(f for f in FLAG_NAMES if f not in DERIVED_FLAGS)),
    "usc_family_rate": _probs(TRUE_STATUSES),
    "lpr_family_rate": _prob,
    "immigration_fraud_rate": _prob,
    "visa_abuse_rate": _prob,
    # booking times
    "booking_hour_weights": _weights(24),
    "release_hours": _numbers(("median", "sigma", "max")),
    "release_business_hours_share": _prob,
    # outcomes
    "pending_conviction_rate": _prob,
    "custody_rate": _probs(CONVICTION),
    "custody_factor_not_honored": _prob,
    "custody_factor_notification": _prob,
    "removal_rate": _probs(CONVICTION),
    "removal_factor_pending_relief": _prob,
    "detained_rate": _probs(CONVICTION),
    "held_past_expiry_rate": _prob,
}


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (PyYAML keeps the last one silently)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            duplicate = key in seen
        except TypeError:
            raise ParamsError(f"line {key_node.start_mark.line + 1}: unhashable key") from None
        if duplicate:
            raise ParamsError(f"line {key_node.start_mark.line + 1}: duplicate key {key!r}")
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)


def parse_params(
    text: str, where: str = "<params>", spec: dict[str, Callable[[str, Any], Any]] | None = None
) -> Params:
    """Validate parameter YAML text; see the module doc. ``spec`` (name -> checker) defaults
    to the nation's ``SPEC``; other generators (``synth.arrests``) pass their own."""
    if len(text) > MAX_BYTES:
        raise ParamsError(f"{where}: larger than {MAX_BYTES} bytes")
    try:
        doc = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except ParamsError as exc:
        raise ParamsError(f"{where}: {exc}") from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise ParamsError(f"{where}: not valid YAML: {str(exc)[:300]}") from None
    return validate_document(doc, where, spec)


def validate_document(
    doc: Any, where: str = "<params>", spec: dict[str, Callable[[str, Any], Any]] | None = None
) -> Params:
    """Validate an already parsed parameter document (a mapping of name -> entry)."""
    checks = SPEC if spec is None else spec
    if not isinstance(doc, dict):
        raise ParamsError(f"{where}: expected a mapping of parameters, got {_show(doc)}")
    unknown = [str(k) for k in doc if k not in checks]
    if unknown:
        raise ParamsError(f"{where}: unknown parameter(s): {', '.join(sorted(unknown))[:300]}")
    missing = [k for k in checks if k not in doc]
    if missing:
        raise ParamsError(f"{where}: missing parameter(s): {', '.join(missing)}")
    meta = {}
    for name, check in checks.items():
        entry = doc[name]
        if not isinstance(entry, dict):
            raise ParamsError(f"{name}: expected a mapping with value and source, got "
                              f"{_show(entry)}")  # fmt: skip
        extra = set(entry) - {"value", "source", "rationale", "calibrated", "target"}
        if extra:
            raise ParamsError(f"{name}: unknown key(s) {', '.join(sorted(map(str, extra)))}")
        if "value" not in entry:
            raise ParamsError(f"{name}: missing 'value'")
        source = entry.get("source")
        if not isinstance(source, str) or not source.strip():
            raise ParamsError(f"{name}: missing 'source' (a non-empty string)")
        rationale = entry.get("rationale")
        if rationale is not None and (not isinstance(rationale, str) or not rationale.strip()):
            raise ParamsError(f"{name}: 'rationale' must be a non-empty string")
        calibrated = entry.get("calibrated", False)
        if not isinstance(calibrated, bool):
            raise ParamsError(f"{name}: 'calibrated' must be true or false, got "
                              f"{_show(calibrated)}")  # fmt: skip
        target = entry.get("target")
        if calibrated and (not isinstance(target, str) or not target.strip() or not rationale):
            raise ParamsError(f"{name}: a calibrated parameter needs 'target' and 'rationale'")
        if "synthetic" in source.lower() and not rationale:
            raise ParamsError(f"{name}: a synthetic parameter needs a 'rationale'")
        meta[name] = Param(name, check(name, entry["value"]), source, rationale, calibrated,
                           target if isinstance(target, str) else None)  # fmt: skip
    return Params(meta, None)


def load_params(
    path: str | Path | None = None,
    *,
    default: Path = DEFAULT_PATH,
    spec: dict[str, Callable[[str, Any], Any]] | None = None,
) -> Params:
    """Load and validate a parameter file: ``path``, or the packaged ``default``
    (nation_params.yaml); ``spec`` as for :func:`parse_params` (other generators and the bias
    monitor pass their own). The size limit is checked before the file is read."""
    p = Path(path) if path is not None else default
    try:
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise ParamsError(f"{p}: larger than {MAX_BYTES} bytes")
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ParamsError(f"{p}: cannot read: {exc}") from None
    params = parse_params(text, str(p), spec)
    params.path = p
    return params
