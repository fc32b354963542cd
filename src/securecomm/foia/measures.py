"""The Task Force's measures on the real releases, from the imported tables.

Each measure is a DataFrame with its citation in ``MEASURES``. Counts include every row of the
release (Seattle rows cannot be de-duplicated: no identifier survives redaction; DDP repeats are
dropped, see ``likely_duplicate``). A share is null where its denominator is zero or the field
is not reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa

from . import sources as S


@dataclass(frozen=True)
class Measure:
    name: str
    title: str
    citation: str
    unit: str
    note: str = ""


MEASURES = {
    m.name: m
    for m in (
        Measure("arrests_by_method", "Seattle AOR administrative arrests by arrest method group",
                f"{S.TF}, I (jail programs vs at-large enforcement); rec. I.4 (publish statistics)",
                "arrests", "Group per foia.jail_program_arrest_methods / at_large_arrest_methods."),
        Measure("arrests_by_method_fy", "Seattle AOR arrests per fiscal year and method group",
                f"{S.TF}, I", "arrests"),
        Measure("jail_arrests_without_conviction",
                "Jail-program arrests with no criminal conviction recorded (Seattle AOR)",
                f"{S.TF}, II rec. 1-2 (focus on serious criminals); III rec. 1",
                "share of jail-program arrests whose conviction field is reported",
                "Most Serious Conviction is not reported before FY2015: those years are null."),
        Measure("cap_encounter_outcomes", "Criminal Alien Program encounters by processing disposition",
                f"{S.TF}, I rec. 4; II (what happens after a match)", "encounters",
                "The CAP files carry no dates: fiscal year from the file title, no months."),
        Measure("foreign_born_usc", "Foreign-born US citizens encountered by the Criminal Alien Program",
                f"{S.TF}, III rec. 5 (US citizens held on detainers)", "encounters"),
        Measure("usc_detainers_lifted", "Detainers lifted because the person was a US citizen, by state",
                f"{S.TF}, III rec. 5; 8 CFR 287.7", "detainers lifted"),
        Measure("usc_share_of_lifts", "US-citizen share of detainers lifted (NPR releases)",
                f"{S.TF}, III rec. 5", "share of lifted detainers"),
        Measure("ddp_detainers", "Washington detainers (Deportation Data Project) by criminality at preparation",
                f"{S.TF}, II rec. 1-2; III rec. 1", "detainers (join repeats removed)",
                "44 people, Nov 2023 - Feb 2025; a later era than the other releases."),
        Measure("charge_classification", "Convictions classified with the policy engine's classifier",
                "Morton, March 2, 2011 (levels); TF III rec. 1 (categories)", "rows"),
    )
}  # fmt: skip


def _df(tables: Mapping[str, pa.Table], name: str, columns: list[str]) -> pd.DataFrame:
    return tables[name].select(columns).to_pandas()


def method_group(method: str | None) -> str:
    if method in S.JAIL_PROGRAM_METHODS.value:
        return "jail_program"
    if method in S.AT_LARGE_METHODS.value:
        return "at_large"
    return "other" if method else "not_recorded"


def _share(num: pd.Series, den: pd.Series) -> pd.Series:
    return (num / den.where(den > 0)).round(4)


def arrests_by_method(tables: Mapping[str, pa.Table]) -> tuple[pd.DataFrame, pd.DataFrame]:
    a = _df(tables, "seattle_arrests", ["fiscal_year", "month", "arrest_method"])
    a["method_group"] = a["arrest_method"].map(method_group)
    monthly = (
        a.groupby(["fiscal_year", "month", "method_group"]).size().rename("arrests").reset_index()
    )
    fy = a.pivot_table(index="fiscal_year", columns="method_group", aggfunc="size", fill_value=0)
    fy = fy.reindex(columns=["jail_program", "at_large", "other", "not_recorded"], fill_value=0)
    fy["total"] = fy.sum(axis=1)
    fy["jail_program_share"] = _share(fy["jail_program"], fy["total"])
    return monthly, fy.reset_index()


def jail_arrests_without_conviction(
    tables: Mapping[str, pa.Table], by: str = "fiscal_year"
) -> pd.DataFrame:
    a = _df(tables, "seattle_arrests",
            ["fiscal_year", "month", "arrest_method", "most_serious_conviction_status"])  # fmt: skip
    a = a[a["arrest_method"].map(method_group) == "jail_program"]
    st = a["most_serious_conviction_status"]
    keys = ["fiscal_year"] if by == "fiscal_year" else ["fiscal_year", "month"]
    g = a.assign(reported=st.isin([S.VALUE, S.BLANK]), no_conviction=st.eq(S.BLANK),
                 redacted=st.eq(S.REDACTED)).groupby(keys)  # fmt: skip
    out = g.agg(jail_program_arrests=("reported", "size"), conviction_reported=("reported", "sum"),
                no_conviction=("no_conviction", "sum"), redacted=("redacted", "sum")).reset_index()  # fmt: skip
    out["no_conviction_share"] = _share(out["no_conviction"], out["conviction_reported"])
    out.loc[out["conviction_reported"] == 0, "no_conviction"] = pd.NA
    out["no_conviction"] = out["no_conviction"].astype("Int64")
    return out


def cap_encounter_outcomes(tables: Mapping[str, pa.Table]) -> pd.DataFrame:
    e = _df(tables, "seattle_cap_encounters", ["fiscal_year", "processing_disposition"])
    e["processing_disposition"] = e["processing_disposition"].fillna("(blank)")
    out = (
        e.groupby(["fiscal_year", "processing_disposition"])
        .size()
        .rename("encounters")
        .reset_index()
    )
    out["share"] = _share(
        out["encounters"], out.groupby("fiscal_year")["encounters"].transform("sum")
    )
    return out.sort_values(["fiscal_year", "encounters"], ascending=[True, False])


def _flag_share(
    d: pd.DataFrame, flag: pd.Series, total: str, flagged: str, share: str
) -> pd.DataFrame:
    """Per fiscal year: rows, rows where ``flag`` holds, and their share."""
    out = d.assign(_flag=flag).groupby("fiscal_year").agg(**{total: ("_flag", "size"),
                                                            flagged: ("_flag", "sum")})  # fmt: skip
    out[share] = _share(out[flagged], out[total])
    return out.reset_index()


def foreign_born_usc(tables: Mapping[str, pa.Table]) -> pd.DataFrame:
    e = _df(tables, "seattle_cap_encounters", ["fiscal_year", "processing_disposition"])
    usc = e["processing_disposition"].eq(S.FOREIGN_BORN_USC)
    return _flag_share(e, usc, "encounters", "foreign_born_usc", "share")


def usc_detainers_lifted(tables: Mapping[str, pa.Table], by: str = "state") -> pd.DataFrame:
    """Detainers lifted as 'United States Citizen Interviewed', per ``by`` (state | month)
    and fiscal year."""
    key = "state" if by == "state" else "month"
    d = _df(tables, "npr_detainers_lifted", ["fiscal_year", key, "lift_reason"])
    d = d[d["lift_reason"] == S.LIFT_US_CITIZEN].fillna({key: "(blank)"})
    keys = [key, "fiscal_year"] if key == "state" else ["fiscal_year", key]
    return d.groupby(keys).size().rename("lifted_us_citizen").reset_index()


def usc_share_of_lifts(tables: Mapping[str, pa.Table]) -> pd.DataFrame:
    d = _df(tables, "npr_detainers_lifted", ["fiscal_year", "lift_reason"])
    usc = d["lift_reason"].eq(S.LIFT_US_CITIZEN)
    return _flag_share(d, usc, "lifted", "lifted_us_citizen", "us_citizen_share")


def charge_classification(tables: Mapping[str, pa.Table]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Share classified per table, and the unclassified texts (most frequent first)."""
    c = tables["charges"].to_pandas()
    c["classified"] = c["ncic"].notna()
    share = c.groupby("table").apply(
        lambda d: pd.Series({"texts": len(d), "rows": int(d["rows"].sum()),
                             "rows_classified": int(d.loc[d["classified"], "rows"].sum())}),
        include_groups=False,
    ).reset_index()  # fmt: skip
    share["share_classified"] = _share(share["rows_classified"], share["rows"])
    un = c[~c["classified"]].groupby("text")["rows"].sum().sort_values(ascending=False)
    return share, un.rename("rows").reset_index()


def level_distribution(tables: Mapping[str, pa.Table]) -> pd.DataFrame:
    """Jail-program arrests (FY2015+) by the Morton level of their most serious conviction."""
    a = _df(tables, "seattle_arrests", ["fiscal_year", "arrest_method",
                                        "most_serious_conviction_status", "msc_morton_level",
                                        "msc_charge_category"])  # fmt: skip
    a = a[(a["arrest_method"].map(method_group) == "jail_program")
          & a["most_serious_conviction_status"].isin([S.VALUE, S.BLANK])]  # fmt: skip
    level = a["msc_morton_level"].astype("Int64").astype(str).radd("level_")
    level = level.where(a["most_serious_conviction_status"] == S.VALUE, "no_conviction")
    level = level.where(~((a["most_serious_conviction_status"] == S.VALUE)
                          & a["msc_morton_level"].isna()), "conviction_without_level")  # fmt: skip
    out = a.assign(level=level).groupby(["fiscal_year", "level"]).size().rename("arrests")
    return out.reset_index()


def ddp_detainers(tables: Mapping[str, pa.Table]) -> pd.DataFrame:
    d = _df(tables, "ddp_detainers_wa", ["fiscal_year", "likely_duplicate",
                                         "detainer__detainer_prepared_criminality"])  # fmt: skip
    d = d[~d["likely_duplicate"].fillna(False).astype(bool)]
    d = d.rename(columns={"detainer__detainer_prepared_criminality": "criminality"})
    d["criminality"] = d["criminality"].fillna("(blank)")
    out = d.groupby(["fiscal_year", "criminality"]).size().rename("detainers").reset_index()
    out["share"] = _share(
        out["detainers"], out.groupby("fiscal_year")["detainers"].transform("sum")
    )
    return out


def compute(tables: Mapping[str, pa.Table]) -> dict[str, Any]:
    monthly, fy = arrests_by_method(tables)
    share, unclassified = charge_classification(tables)
    return {
        "arrests_by_method": monthly,
        "arrests_by_method_fy": fy,
        "jail_arrests_without_conviction": jail_arrests_without_conviction(tables),
        "jail_arrests_without_conviction_monthly": jail_arrests_without_conviction(tables, "month"),
        "cap_encounter_outcomes": cap_encounter_outcomes(tables),
        "foreign_born_usc": foreign_born_usc(tables),
        "usc_detainers_lifted": usc_detainers_lifted(tables),
        "usc_detainers_lifted_monthly": usc_detainers_lifted(tables, by="month"),
        "usc_share_of_lifts": usc_share_of_lifts(tables),
        "ddp_detainers": ddp_detainers(tables),
        "charge_classification": share,
        "unclassified_charges": unclassified,
        "jail_arrests_by_level": level_distribution(tables),
    }
