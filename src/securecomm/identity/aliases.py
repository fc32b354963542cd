"""Aliases: every name and date of birth used across a matched identity's encounters.

An IDENT (or criminal-history) identity accumulates encounters; each records the name the person
gave and a date of birth. After a biometric match the field office and the LEA see *all* of them
(the report's "names used = aliases"). Two spellings are the same alias when their comparison
key is equal: Unicode NFKD with accents stripped, case-folded, punctuation removed, whitespace
collapsed -- so ``"José  García-López"`` and ``"JOSE GARCIA LOPEZ"`` are one alias. The first
spelling seen (by encounter date, then encounter id) is kept as the display form and every other
spelling is listed under it.

Input is a pandas DataFrame or pyarrow Table with at least ``identity_id``, ``encounter_id``
and either ``name`` or ``first_name`` + ``last_name`` (optionally ``middle_name``); optional
``dob`` (date or ISO string) and ``encounter_date``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["Alias", "AliasReport", "aliases_for", "name_key"]

_PUNCT = re.compile(r"[^\w\s]", flags=re.UNICODE)
_SPACE = re.compile(r"\s+")


def name_key(name: Any) -> str:
    """The comparison key of a name: accents stripped, case-folded, punctuation to spaces."""
    if name is None or (isinstance(name, float) and pd.isna(name)):
        return ""
    s = unicodedata.normalize("NFKD", str(name))
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = _PUNCT.sub(" ", s.casefold()).replace("_", " ")
    return _SPACE.sub(" ", s).strip()


@dataclass(frozen=True)
class Alias:
    name: str  # display form: first spelling seen
    key: str
    spellings: tuple[str, ...]  # every distinct original spelling, first seen first
    encounter_ids: tuple[Any, ...]


@dataclass(frozen=True)
class AliasReport:
    identity_id: Any
    names: tuple[Alias, ...]
    dates_of_birth: tuple[str, ...]  # distinct ISO dates, first seen first
    encounter_count: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def name_list(self) -> list[str]:
        return [a.name for a in self.names]

    def to_dict(self) -> dict[str, Any]:
        return {
            "identity_id": self.identity_id,
            "names": [
                {
                    "name": a.name,
                    "spellings": list(a.spellings),
                    "encounter_ids": list(a.encounter_ids),
                }
                for a in self.names
            ],
            "dates_of_birth": list(self.dates_of_birth),
            "encounter_count": self.encounter_count,
        }


def _to_frame(encounters: Any) -> pd.DataFrame:
    if isinstance(encounters, pd.DataFrame):
        return encounters
    to_pandas = getattr(encounters, "to_pandas", None)
    if callable(to_pandas):
        return to_pandas()
    raise TypeError(
        f"encounters must be a pandas DataFrame or a pyarrow Table, got {type(encounters).__name__}"
    )


def _full_name(df: pd.DataFrame) -> pd.Series:
    if "name" in df.columns:
        return df["name"]
    if not {"first_name", "last_name"} <= set(df.columns):
        raise ValueError("encounters needs a 'name' column or 'first_name' and 'last_name' columns")
    parts = [df["first_name"]]
    if "middle_name" in df.columns:
        parts.append(df["middle_name"])
    parts.append(df["last_name"])

    def join(row: tuple[Any, ...]) -> str | None:
        words = [str(p).strip() for p in row if p is not None and not pd.isna(p) and str(p).strip()]
        return " ".join(words) or None

    return pd.Series([join(r) for r in zip(*parts, strict=True)], index=df.index, dtype=object)


def _iso_dob(v: Any) -> str | None:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    if isinstance(v, str):
        v = v.strip()
        return v or None
    try:
        return pd.Timestamp(v).date().isoformat()
    except (ValueError, TypeError):
        return str(v)


def aliases_for(encounters: Any, identity_id: Any) -> AliasReport:
    """Every distinct name (and DOB) used across ``identity_id``'s encounters.

    Raises ``ValueError`` naming the missing column when the table lacks one, and ``KeyError``
    when the identity has no encounter.
    """
    df = _to_frame(encounters)
    for col in ("identity_id", "encounter_id"):
        if col not in df.columns:
            raise ValueError(f"encounters lacks the column {col!r}")
    rows = df[df["identity_id"] == identity_id]
    if rows.empty:
        raise KeyError(f"identity_id {identity_id!r} has no encounters")
    order = [c for c in ("encounter_date", "encounter_id") if c in rows.columns]
    rows = rows.sort_values(order, kind="stable")
    names = _full_name(rows)
    by_key: dict[str, dict[str, Any]] = {}
    for enc_id, raw in zip(rows["encounter_id"], names, strict=True):
        if raw is None or (not isinstance(raw, str) and pd.isna(raw)):
            continue
        original = _SPACE.sub(" ", str(raw)).strip()
        key = name_key(original)
        if not key:
            continue
        entry = by_key.setdefault(key, {"spellings": [], "encounters": []})
        if original not in entry["spellings"]:
            entry["spellings"].append(original)
        entry["encounters"].append(enc_id.item() if hasattr(enc_id, "item") else enc_id)
    aliases = tuple(
        Alias(
            name=v["spellings"][0],
            key=k,
            spellings=tuple(v["spellings"]),
            encounter_ids=tuple(dict.fromkeys(v["encounters"])),
        )
        for k, v in by_key.items()
    )
    dobs: dict[str, None] = {}
    if "dob" in rows.columns:
        for v in rows["dob"]:
            iso = _iso_dob(v)
            if iso:
                dobs.setdefault(iso, None)
    return AliasReport(
        identity_id=identity_id,
        names=aliases,
        dates_of_birth=tuple(dobs),
        encounter_count=len(rows),
    )
