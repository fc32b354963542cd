"""Deployment settings of the pipeline: where the galleries live, which policy is in force
when, the match thresholds, and whether officers are simulated.

Sources, later ones winning:

1. defaults (below);
2. a YAML file named by ``SECURECOMM_PIPELINE_CONFIG``::

       policy_schedule:            # effective date -> pack name or variant YAML path
         - {effective: 2008-10-27, policy: morton-2011}
         - {effective: 2011-09-30, policy: tfsc-2011}
         - {effective: 2014-11-20, policy: pep-2014}
       data_dir: /var/lib/securecomm   # galleries and the biographic model
       match_threshold: 0.75           # 1:N cosine score for an automatic match
       verification_band_low: 0.66     # [band_low, match) -> a person verifies
       min_template_quality: 0.40      # below: biographic linkage only
       auto_accept: false              # simulate officers (simulations, benchmarks)

3. environment: ``SECURECOMM_POLICY_SCHEDULE`` (``"2011-09-30=tfsc-2011,2014-11-20=pep-2014"``;
   a single name ``tfsc-2011`` means "from the beginning of time"), ``SECURECOMM_DATA_DIR``.

The policy applied to a booking is the schedule entry with the latest ``effective`` date on or
before the booking's local date (DESIGN 3: the policy in force when the person was booked);
a booking before the first entry gets the first entry's policy. Default: ``tfsc-2011`` always.

Data directory: ``data_dir`` if set; else for a SQLite file database the file's own directory
(files named after the database: ``securecomm.ident.faiss`` beside ``securecomm.db``); else
(PostgreSQL) ``./securecomm-data/<host>-<port>-<database>-<search path>/``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import URL, make_url

from ..identity.gallery import DEFAULT_POLICY, DecisionPolicy

__all__ = [
    "DEFAULT_POLICY_NAME",
    "ENV_CONFIG",
    "ENV_DATA_DIR",
    "ENV_POLICY_SCHEDULE",
    "PipelineSettings",
    "PolicySchedule",
    "SettingsError",
    "load_settings",
]

ENV_CONFIG = "SECURECOMM_PIPELINE_CONFIG"
ENV_POLICY_SCHEDULE = "SECURECOMM_POLICY_SCHEDULE"
ENV_DATA_DIR = "SECURECOMM_DATA_DIR"
DEFAULT_POLICY_NAME = "tfsc-2011"
_BEGINNING = dt.date(1900, 1, 1)


class SettingsError(ValueError):
    """A setting cannot be used as given; the message names it."""


class PolicySchedule:
    """Effective dates -> policies; compiled packs cached (one compile per policy)."""

    def __init__(self, entries: list[tuple[dt.date, str]] | None = None) -> None:
        entries = sorted(entries or [(_BEGINNING, DEFAULT_POLICY_NAME)])
        dates = [d for d, _ in entries]
        if len(set(dates)) != len(dates):
            raise SettingsError("policy_schedule: two entries share an effective date")
        self.entries = entries
        self._compiled: dict[str, Any] = {}

    def name_on(self, day: dt.date) -> str:
        chosen = self.entries[0][1]
        for effective, name in self.entries:
            if effective <= day:
                chosen = name
            else:
                break
        return chosen

    def compiled(self, name: str):
        """The compiled pack for ``name`` (a pack name or variant YAML), compiled once."""
        pack = self._compiled.get(name)
        if pack is None:
            from ..law.engine import CompiledPack
            from ..policy_files import load_policy

            try:
                pack = CompiledPack(load_policy(name))
            except ValueError as exc:
                raise SettingsError(f"policy_schedule: {exc}") from None
            self._compiled[name] = pack
        return pack

    def compiled_on(self, day: dt.date):
        return self.compiled(self.name_on(day))

    def check(self) -> None:
        """Compile every scheduled policy now (fail at start, not mid-run)."""
        for _, name in self.entries:
            self.compiled(name)

    def describe(self) -> list[dict[str, str]]:
        return [{"effective": d.isoformat(), "policy": n} for d, n in self.entries]


def _parse_date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise SettingsError(f"{where}: {value!r} is not an ISO date YYYY-MM-DD") from None


def parse_schedule_text(text: str) -> list[tuple[dt.date, str]]:
    """``"2011-09-30=tfsc-2011,2014-11-20=pep-2014"`` or a single ``tfsc-2011``."""
    entries = []
    for i, part in enumerate(p.strip() for p in text.split(",") if p.strip()):
        if "=" in part:
            day, name = part.split("=", 1)
            entries.append((_parse_date(day, f"{ENV_POLICY_SCHEDULE}[{i}]"), name.strip()))
        else:
            entries.append((_BEGINNING, part))
    if not entries:
        raise SettingsError(f"{ENV_POLICY_SCHEDULE}: empty")
    return entries


@dataclass(frozen=True)
class PipelineSettings:
    policy_entries: tuple[tuple[dt.date, str], ...] = ((_BEGINNING, DEFAULT_POLICY_NAME),)
    data_dir: Path | None = None
    match_threshold: float = DEFAULT_POLICY.match_threshold
    verification_band_low: float = DEFAULT_POLICY.verification_band_low
    min_template_quality: float = 0.40
    auto_accept: bool = False
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @cached_property
    def schedule(self) -> PolicySchedule:
        return PolicySchedule(list(self.policy_entries))

    @property
    def decision_policy(self) -> DecisionPolicy:
        if (self.match_threshold, self.verification_band_low) == (
            DEFAULT_POLICY.match_threshold,
            DEFAULT_POLICY.verification_band_low,
        ):
            return DEFAULT_POLICY
        return DecisionPolicy(
            match_threshold=self.match_threshold,
            verification_band_low=self.verification_band_low,
            rationale="deployment setting (securecomm.interop.settings)",
        )

    def with_(self, **changes: Any) -> PipelineSettings:
        return replace(self, **changes)

    def data_dir_for(self, url: str | URL) -> Path:
        """Where the galleries and the biographic model of the database at ``url`` live."""
        if self.data_dir is not None:
            return Path(self.data_dir)
        u = make_url(url)
        if u.get_backend_name() == "sqlite":
            db = u.database
            if db and db != ":memory:":
                return Path(db).resolve().parent
            return Path.cwd() / "securecomm-data" / "sqlite-memory"
        options = u.query.get("options", "")
        tag = "-".join(str(x) for x in (u.host or "local", u.port or 5432, u.database or "db") if x)
        if options:
            tag += "-" + hashlib.sha256(str(options).encode()).hexdigest()[:12]
        return Path.cwd() / "securecomm-data" / re.sub(r"[^A-Za-z0-9_.-]+", "_", tag)

    def file_prefix_for(self, url: str | URL) -> str:
        """File-name prefix: the SQLite file's stem (``securecomm``), else ``securecomm``."""
        u = make_url(url)
        if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:":
            return Path(u.database).stem
        return "securecomm"


def load_settings(**overrides: Any) -> PipelineSettings:
    """Settings from the defaults, ``SECURECOMM_PIPELINE_CONFIG``, the environment, and
    ``overrides`` (keyword arguments naming :class:`PipelineSettings` fields)."""
    values: dict[str, Any] = {}
    path = os.environ.get(ENV_CONFIG, "").strip()
    if path:
        try:
            doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise SettingsError(f"{ENV_CONFIG}={path}: {exc}") from None
        if not isinstance(doc, dict):
            raise SettingsError(f"{ENV_CONFIG}={path}: a mapping expected")
        known = {
            "policy_schedule",
            "data_dir",
            "match_threshold",
            "verification_band_low",
            "min_template_quality",
            "auto_accept",
        }
        unknown = set(doc) - known
        if unknown:
            raise SettingsError(f"{path}: unknown setting(s) {sorted(unknown)}")
        if "policy_schedule" in doc:
            sched = doc["policy_schedule"]
            if isinstance(sched, str):
                values["policy_entries"] = tuple(parse_schedule_text(sched))
            elif isinstance(sched, list) and sched:
                entries = []
                for i, item in enumerate(sched):
                    if not isinstance(item, dict) or set(item) != {"effective", "policy"}:
                        raise SettingsError(
                            f"{path}: policy_schedule[{i}]: {{effective, policy}} expected"
                        )
                    entries.append(
                        (
                            _parse_date(item["effective"], f"policy_schedule[{i}].effective"),
                            str(item["policy"]),
                        )
                    )
                values["policy_entries"] = tuple(entries)
            else:
                raise SettingsError(f"{path}: policy_schedule: a non-empty list expected")
        if doc.get("data_dir"):
            values["data_dir"] = Path(doc["data_dir"])
        for key in ("match_threshold", "verification_band_low", "min_template_quality"):
            if key in doc:
                try:
                    values[key] = float(doc[key])
                except (TypeError, ValueError):
                    raise SettingsError(f"{path}: {key}: a number expected") from None
        if "auto_accept" in doc:
            if not isinstance(doc["auto_accept"], bool):
                raise SettingsError(f"{path}: auto_accept: true or false expected")
            values["auto_accept"] = doc["auto_accept"]
    env_schedule = os.environ.get(ENV_POLICY_SCHEDULE, "").strip()
    if env_schedule:
        values["policy_entries"] = tuple(parse_schedule_text(env_schedule))
    env_dir = os.environ.get(ENV_DATA_DIR, "").strip()
    if env_dir:
        values["data_dir"] = Path(env_dir)
    values.update({k: v for k, v in overrides.items() if v is not None})
    settings = PipelineSettings(**values)
    try:
        settings.decision_policy  # noqa: B018 - validates the thresholds
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    if not 0 <= settings.min_template_quality <= 1:
        raise SettingsError("min_template_quality: between 0 and 1")
    return settings
