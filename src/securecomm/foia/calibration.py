"""The synthetic nation beside the real records where the measures overlap (issue 12, item 4).

``securecomm foia calibrate REAL --markdown docs/calibration.md`` generates the calibration
period's nation exactly as ``synth calibrate`` does (same period, pack, seed and sample
fraction), computes the overlapping measures on it and on the imported releases, and writes the
section between the markers below into the markdown file (the rest of the file is left as
``synth calibrate`` wrote it).
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from . import sources as S
from .measures import method_group

BEGIN = "<!-- foia-real:begin (securecomm foia calibrate; do not edit by hand) -->"
END = "<!-- foia-real:end -->"
CITIZEN = ("us_citizen_by_birth", "naturalized_citizen")


@dataclass(frozen=True)
class Row:
    figure: str
    synthetic: tuple[int, int]
    real: tuple[int, int]
    real_source: str
    why: str


def synthetic_counts(sample_fraction: float, seed: int) -> tuple[dict[str, tuple[int, int]], dict]:
    """Counts on the calibration period's nation under the calibration pack."""
    from securecomm.synth.calibrate import PACK, PERIOD
    from securecomm.synth.nation import NationSpec, generate_nation
    from securecomm.synth.outcomes import nation_outcomes
    from securecomm.synth.params import load_params

    params = load_params()
    spec = NationSpec(seed=seed, sample_fraction=sample_fraction, start=PERIOD[0], end=PERIOD[1],
                      scale="custom")  # fmt: skip
    nation = generate_nation(spec, None, params=params)
    with tempfile.TemporaryDirectory(prefix="foia-calibrate-") as tmp:
        paths = nation_outcomes(nation, [PACK], tmp, seed=seed, progress=None, params=params,
                                keep_extra=True)  # fmt: skip
        out = pq.read_table(paths[PACK])

    def arr(t: pa.Table, name: str) -> np.ndarray:
        return t[name].to_numpy(zero_copy_only=False)

    custody = arr(out, "ice_custody").astype(bool)
    convicted = arr(out, "conviction_status").astype(str) == "convicted"
    match = arr(nation, "ident_match").astype(bool)
    citizen = np.isin(arr(nation, "true_status").astype(str), CITIZEN)
    detainer = np.isin(np.asarray(arr(out, "action"), dtype=object).astype(str),
                       ["detainer", "conditional_detainer"])  # fmt: skip
    counts = {
        "no_conviction_jail_arrests": (int((custody & ~convicted).sum()), int(custody.sum())),
        "citizens_among_matches": (int((match & citizen).sum()), int(match.sum())),
        "citizens_among_detainers": (int((detainer & citizen).sum()), int(detainer.sum())),
        "no_conviction_detainers": (int((detainer & ~convicted).sum()), int(detainer.sum())),
    }
    meta = {"pack": PACK, "start": PERIOD[0], "end": PERIOD[1], "bookings": nation.num_rows,
            "sample_fraction": sample_fraction, "seed": seed}  # fmt: skip
    return counts, meta


def real_counts(tables: dict[str, pa.Table]) -> dict[str, tuple[int, int]]:
    a = tables["seattle_arrests"].select(
        ["arrest_method", "most_serious_conviction_status"]).to_pylist()  # fmt: skip
    jail = [r for r in a if method_group(r["arrest_method"]) == "jail_program"
            and r["most_serious_conviction_status"] in (S.VALUE, S.BLANK)]  # fmt: skip
    enc = tables["seattle_cap_encounters"]["processing_disposition"].to_pylist()
    lifts = tables["npr_detainers_lifted"]["lift_reason"].to_pylist()
    ddp = tables["ddp_detainers_wa"].select(
        ["likely_duplicate", "detainer__detainer_prepared_criminality"]).to_pylist()  # fmt: skip
    ddp = [r for r in ddp if not r["likely_duplicate"]]
    return {
        "no_conviction_jail_arrests": (
            sum(r["most_serious_conviction_status"] == S.BLANK for r in jail), len(jail)),
        "citizens_among_matches": (sum(d == S.FOREIGN_BORN_USC for d in enc), len(enc)),
        "citizens_among_detainers": (sum(x == S.LIFT_US_CITIZEN for x in lifts), len(lifts)),
        "no_conviction_detainers": (
            sum(r["detainer__detainer_prepared_criminality"] != "1 Convicted Criminal" for r in ddp),
            len(ddp)),
    }  # fmt: skip


ROWS: dict[str, tuple[str, str, str]] = {
    "no_conviction_jail_arrests": (
        "No criminal conviction, share of jail-based ICE arrests",
        "Seattle AOR, CAP/287(g) arrests FY2015-FY2019 with Most Serious Conviction blank (UWCHR)",
        "The synthetic share counts every person taken into ICE custody after a Secure "
        "Communities match in 2008-2011, before the Morton (2011) and Johnson (2014) priorities "
        "narrowed jail enforcement to convicted people; the real figure is one area of "
        "responsibility under the 2014-2017 priorities and their 2017 rescission, and ICE's "
        "'blank' may also hide convictions it did not record."),
    "citizens_among_matches": (
        "US citizens among the people ICE's jail program encountered",
        "Seattle AOR CAP encounters FY2017-FY2018 with disposition 'Foreign Born USC' (UWCHR)",
        "Synthetic: citizens (by birth or naturalised) among IDENT matches, who match because of "
        "an earlier immigration record. Real: CAP encounters that ICE screened and found to be "
        "foreign-born citizens; CAP also screens people from jail lists without a fingerprint "
        "match, so its denominator is wider. The synthetic share is not itself calibrated (the "
        "IDENT enrolment rates in synth/nation_params.yaml give 93% of naturalised citizens an "
        "old record); the real 7% suggests it may be high — worth a look by the synth owner."),
    "citizens_among_detainers": (
        "US citizens among detainers (synthetic: issued; real: lifted)",
        "NPR: detainers lifted FY2008-FY2015 as 'United States Citizen Interviewed', share of "
        "all lifted for citizenship or non-deportability",
        "Not the same denominator: the synthetic engine puts a detainer on a citizen only when "
        "the record wrongly shows a non-citizen (a stale LESC record), while the real figure counts only detainers that were lifted — the "
        "releases do not say how many detainers were issued in all, so the real rate of "
        "detainers on citizens cannot be computed."),
    "no_conviction_detainers": (
        "Detainers on people with no criminal conviction",
        "Deportation Data Project, Washington detainers Nov 2023 - Feb 2025, criminality at "
        "preparation not '1 Convicted Criminal' (join repeats removed)",
        "Different era and state: 47 Washington detainers under 2023-2025 priorities against a "
        "2008-2011 national simulation; the synthetic target is TRAC's 47.7% (FY2012-Jan 2013)."),
}  # fmt: skip


def _pct(n: int, d: int) -> str:
    return f"{100 * n / d:.2f}% ({n:,} / {d:,})" if d else "n/a (0 / 0)"


def section(synth: dict, meta: dict[str, Any], real: dict) -> str:
    lines = [
        BEGIN,
        "## Real records (FOIA) beside the synthetic nation",
        "",
        f"Generated by `securecomm foia calibrate ../shared/data/real --sample-fraction "
        f"{meta['sample_fraction']:g} --seed {meta['seed']} --markdown docs/calibration.md`. "
        f"Synthetic: the calibration nation ({meta['start']} - {meta['end']}, "
        f"{meta['bookings']:,} sampled bookings, pack `{meta['pack']}`). Real: the public ICE "
        "releases imported by `securecomm foia import` (docs/foia.md). Only measures both "
        "sides can compute; the real column is not a calibration target (other years, one "
        "area of responsibility).",
        "",
        "| figure | synthetic | real | real source | why they differ |",
        "|---|---|---|---|---|",
    ]
    for key, (label, source, why) in ROWS.items():
        lines.append(f"| {label} | {_pct(*synth[key])} | {_pct(*real[key])} | {source} | {why} |")
    lines += ["", END]
    return "\n".join(lines)


def write_section(markdown: Path, text: str) -> None:
    """Replace the marked section of ``markdown`` (or append it)."""
    old = markdown.read_text(encoding="utf-8") if markdown.is_file() else ""
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)
    new = (
        pattern.sub(lambda _: text, old)
        if pattern.search(old)
        else old.rstrip("\n") + "\n\n" + text
    )
    markdown.write_text(new.rstrip("\n") + "\n", encoding="utf-8")


def keep_section(markdown: Path, regenerated: str) -> str:
    """``regenerated`` (``synth calibrate``'s file) with this module's section carried over."""
    old = markdown.read_text(encoding="utf-8") if markdown.is_file() else ""
    found = re.search(re.escape(BEGIN) + r".*?" + re.escape(END), old, re.S)
    return regenerated if found is None else regenerated.rstrip("\n") + "\n\n" + found[0] + "\n"
