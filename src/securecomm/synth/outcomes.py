"""What follows a booking: bulk policy evaluation, then simulated custody and removal.

``nation_outcomes`` evaluates the IDENT-matched bookings of a nation under each pack with
``bulk.evaluate.evaluate_caseload`` and writes, per pack, ``booking-outcomes-<pack>.parquet``
in ``stats.schema.BOOKING_OUTCOME_SCHEMA`` for every booking (unmatched ones: ident_match
false, action null). The simulation (parameters in nation_params.yaml):

- a detainer is held where the jurisdiction honors detainers; a conditional detainer only once
  a pending charge ends in conviction (TF III rec. 1); a notification request never holds;
- ICE custody with ``custody_rate[conviction status]`` times the hold factor;
- removal of those in custody with ``removal_rate`` (convicted by then, else the status at
  booking), lowered by pending relief; detention (Warren: 83%) with ``detained_rate``;
- held past the detainer's expiry: rare (``held_past_expiry_rate``).

Common random numbers: every booking has its own uniforms, drawn from ``(seed, row)`` once and
used under every pack, so a booking with the same action under two packs gets the same custody
and removal — pack differences are policy, not noise.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from securecomm.bulk.evaluate import decisions_file_name, evaluate_caseload
from securecomm.law.engine import bind_pack, column_name
from securecomm.law.model import Pack
from securecomm.stats.schema import BOOKING_OUTCOME_SCHEMA, DECLINE_REASON_BY_RULE

from .params import CONVICTION, Params, load_params

Progress = Callable[[str, int, int], None]
DRAWS = ("conviction", "custody", "removal", "detained", "held")
HOLD_ACTIONS = ("detainer", "conditional_detainer")


def draws(n: int, seed: int) -> dict[str, np.ndarray]:
    """The per-booking uniforms (row order), independent of the pack."""
    rng = np.random.default_rng([seed, 0x0C7C])
    u = rng.random((len(DRAWS), n))
    return {k: u[i] for i, k in enumerate(DRAWS)}


def _np(col) -> np.ndarray:
    return col.to_numpy(zero_copy_only=False) if hasattr(col, "to_numpy") else np.asarray(col)


def _aligned(nation: pa.Table, decisions: pa.Table) -> tuple[pa.Table, np.ndarray]:
    """Decision rows in nation row order (null rows for bookings without a decision)."""
    idx = pc.index_in(nation["tcn"], value_set=decisions["case_id"])
    has = _np(pc.is_valid(idx))
    return decisions.take(idx), has


def priority_bases(pack: Pack, decisions: pa.Table, valid: np.ndarray) -> pa.Array:
    """``priority_bases`` as ``engine.assemble_decision`` lists them: the labels of the fired
    priority rules in rule order (morton-2011: ``level-N`` right after ``1(b)``); null where
    there is no decision."""
    bound = bind_pack(pack)
    n = decisions.num_rows
    level = _np(pc.fill_null(decisions["level"], 0)).astype(np.int64)
    masks, labels = [], []
    for r in bound.rules:
        if r.kind != "priority":
            continue
        fired = _np(pc.fill_null(decisions[column_name(r.id)], False)).astype(bool)
        masks.append(fired)
        labels.append(r.label)
        if pack.priority_scheme == "morton-2011" and r.label == "1(b)":
            for lv in (1, 2, 3):
                masks.append(fired & (level == lv))
                labels.append(f"level-{lv}")
    if not masks:
        offsets = np.zeros(n + 1, dtype=np.int32)
        values = pa.array([], type=pa.string())
    else:
        matrix = np.stack(masks, axis=1) & valid[:, None]
        _, slots = np.nonzero(matrix)  # row-major: by booking, then rule order
        offsets = np.concatenate([[0], np.cumsum(matrix.sum(axis=1))]).astype(np.int32)
        values = pa.array(np.array(labels, dtype=object)[slots], type=pa.string())
    return pa.ListArray.from_arrays(pa.array(offsets), values, mask=pa.array(~valid))


def simulate(
    nation: pa.Table, decisions: pa.Table, pack: Pack, params: Params, u: dict[str, np.ndarray]
) -> pa.Table:
    """Outcome columns (BOOKING_OUTCOME_SCHEMA) plus ``detained`` and ``convicted_by_removal``
    for every booking of ``nation`` under ``pack``'s decisions."""
    n = nation.num_rows
    d, valid = _aligned(nation, decisions)
    matched = _np(nation["ident_match"]).astype(bool)
    action = _np(pc.fill_null(d["action"], "")).astype(str)
    honored = _np(nation["jurisdiction_honors_detainers"]).astype(bool)
    status = _np(nation["conviction_status"]).astype(str)
    conv_idx = np.select([status == c for c in CONVICTION], list(range(3)), 2)
    pending = _pending(nation)
    later = pending & (u["conviction"] < params["pending_conviction_rate"])
    convicted_by_removal = (conv_idx == 0) | later
    nh = params["custody_factor_not_honored"]
    hold = np.where(honored, 1.0, nh)
    factor = np.select(
        [action == "detainer", action == "conditional_detainer",
         action == "notification_request"],
        [hold, hold * later, np.full(n, params["custody_factor_notification"])], 0.0,
    )  # fmt: skip
    custody_rate = np.array([params["custody_rate"][c] for c in CONVICTION])
    custody = valid & matched & (u["custody"] < custody_rate[conv_idx] * factor)
    relief = np.zeros(n, dtype=bool)
    for r in ("u_visa", "t_visa", "vawa", "asylum"):
        relief |= _np(nation[f"person_relief_{r}"]).astype(bool)
    rem_idx = np.where(convicted_by_removal, 0, conv_idx)
    p_removal = np.array([params["removal_rate"][c] for c in CONVICTION])[rem_idx]
    p_removal = np.where(relief, p_removal * params["removal_factor_pending_relief"], p_removal)
    removed = custody & (u["removal"] < p_removal)
    detained = custody & (u["detained"] < np.array(
        [params["detained_rate"][c] for c in CONVICTION])[rem_idx])  # fmt: skip
    held_action = (action == "detainer") | ((action == "conditional_detainer") & later)
    held_past = valid & honored & held_action & (u["held"] < params["held_past_expiry_rate"])

    decline = _decline(d, action)
    null_unless = lambda arr: pc.if_else(pa.array(valid), arr, pa.nulls(n, arr.type))  # noqa: E731
    cols = {
        "policy": pa.array(np.full(n, pack.name), type=pa.string()),
        "tcn": nation["tcn"],
        "booked_at": nation["booked_at"],
        "month": nation["month"],
        "ori": nation["jurisdiction_ori"],
        "state": nation["jurisdiction_state"],
        "county_fips": nation["jurisdiction_county_fips"],
        "program": nation["program"],
        "race": nation["race"],
        "ethnicity": nation["ethnicity"],
        "ident_match": nation["ident_match"],
        "status_category": null_unless(_flat(nation["person_citizenship_status"])),
        "action": d["action"],
        "action_rule": d["action_rule"],
        "decline_reason": decline,
        "level": d["level"].cast(pa.int8()),
        "priority": d["priority"].cast(pa.string()),
        "priority_bases": priority_bases(pack, d, valid),
        "protected": d[column_name("protections.protected-person")],
        "charge_category": nation["charge_category"],
        "conviction_status": nation["conviction_status"],
        "ice_custody": pa.array(custody),
        "removed": pa.array(removed),
        "held_past_expiry": pa.array(held_past),
    }  # fmt: skip
    arrays = [cols[f.name].cast(f.type) for f in BOOKING_OUTCOME_SCHEMA]
    table = pa.Table.from_arrays(arrays, schema=BOOKING_OUTCOME_SCHEMA)
    return table.append_column("detained", pa.array(detained)).append_column(
        "convicted_by_removal", pa.array(convicted_by_removal)
    )


def _flat(col) -> pa.Array:
    return col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col


def _pending(nation: pa.Table) -> np.ndarray:
    charges = _flat(nation["charges"])
    items = charges.flatten()
    is_pending = _np(pc.equal(items.field("disposition"), "pending")).astype(np.int64)
    offsets = charges.offsets.to_numpy()
    sums = np.add.reduceat(np.concatenate([is_pending, [0]]), offsets[:-1] - offsets[0])
    sums = np.where(np.diff(offsets) > 0, sums, 0)
    return sums > 0


def _decline(d, action: np.ndarray) -> pa.Array:
    """decline_reason: the deciding rule's own (the bulk ``decline_reason`` column; for decision
    files written before it, DECLINE_REASON_BY_RULE of ``action_rule``) of a no_detainer."""
    if "decline_reason" in d.column_names:
        reasons = _np(pc.fill_null(d["decline_reason"], "")).astype(str)
        out = np.where((reasons != "") & (action == "no_detainer"), reasons, None)
        return pa.array(out, type=pa.string())
    rules = _np(pc.fill_null(d["action_rule"], "")).astype(str)
    out = np.full(len(rules), None, dtype=object)
    for rule_id, reason in DECLINE_REASON_BY_RULE.items():
        out[(rules == rule_id) & (action == "no_detainer")] = reason
    return pa.array(out, type=pa.string())


# The nation columns the simulation reads: a national year read whole (criminal histories,
# names ...) takes tens of GB; these few take a fraction.
SIMULATION_COLUMNS = (
    "tcn", "booked_at", "month", "jurisdiction_ori", "jurisdiction_state",
    "jurisdiction_county_fips", "jurisdiction_honors_detainers", "program", "race", "ethnicity",
    "ident_match", "person_citizenship_status", "charge_category", "conviction_status", "charges",
    "person_relief_u_visa", "person_relief_t_visa", "person_relief_vawa", "person_relief_asylum",
)  # fmt: skip


def _read_nation(nation: pa.Table | str | Path) -> pa.Table:
    if isinstance(nation, pa.Table):
        return nation
    return pq.read_table(nation, columns=list(SIMULATION_COLUMNS))


def _write_matched(nation: pa.Table | str | Path, caseload: Path) -> None:
    """The IDENT-matched bookings (every column: the flat caseload), streamed from a file."""
    if isinstance(nation, pa.Table):
        pq.write_table(nation.filter(nation["ident_match"]), caseload, compression="zstd")
        return
    source = pq.ParquetFile(nation)
    with pq.ParquetWriter(caseload, source.schema_arrow, compression="zstd") as writer:
        for batch in source.iter_batches(batch_size=256_000):
            writer.write_batch(batch.filter(batch.column("ident_match")))


def nation_outcomes(
    nation: pa.Table | str | os.PathLike,
    packs: Sequence[Pack | str],
    out_dir: str | os.PathLike,
    *,
    seed: int,
    progress: Progress | None = None,
    params: Params | None = None,
    keep_extra: bool = False,
) -> dict[str, Path]:
    """Evaluate and simulate; write ``booking-outcomes-<pack>.parquet`` per pack (see module
    doc). Returns {pack name: path}. ``keep_extra`` also writes the simulation's extra columns
    (``detained``, ``convicted_by_removal``) — for calibration, not for the stats."""
    from securecomm.law.packs import get_pack

    packs = [get_pack(p) if isinstance(p, str) else p for p in packs]
    params = params if params is not None else load_params()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    caseload = out / "nation-matched.parquet"
    _write_matched(nation, caseload)
    total = len(packs) * 2
    step = [0]

    def tick(stage: str, *_):
        step[0] += 1
        if progress is not None:
            progress(stage, min(step[0], total), total)

    evaluate_caseload(caseload, list(packs), out, progress=tick)
    table = _read_nation(nation)
    u = draws(table.num_rows, seed)
    paths = {}
    for pack in packs:
        decisions = pq.read_table(out / decisions_file_name(pack.name))
        result = simulate(table, decisions, pack, params, u)
        if not keep_extra:
            result = result.select(BOOKING_OUTCOME_SCHEMA.names)
        path = out / f"booking-outcomes-{pack.name}.parquet"
        pq.write_table(result, path, compression="zstd")
        paths[pack.name] = path
        tick(f"outcomes {pack.name}")
    return paths
