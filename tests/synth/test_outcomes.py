"""Booking outcomes: the Booking outcome v1 contract, common random numbers, policy effects."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from securecomm.bulk.evaluate import decisions_from_outcomes
from securecomm.law.packs import get_pack
from securecomm.stats.schema import BOOKING_OUTCOME_SCHEMA, DECLINE_REASONS
from securecomm.synth.outcomes import draws, simulate


def test_outcome_files_have_exactly_the_schema_and_every_booking(small_outcomes, small_nation):
    paths, _ = small_outcomes
    assert set(paths) == {"morton-2011", "tfsc-2011"}
    for pack, path in paths.items():
        assert path.name == f"booking-outcomes-{pack}.parquet"
        schema = pq.read_schema(path)
        assert schema.remove_metadata().equals(BOOKING_OUTCOME_SCHEMA), schema
        table = pq.read_table(path)
        assert table.num_rows == small_nation.num_rows
        assert table["tcn"].equals(small_nation["tcn"])
        assert set(pc.unique(table["policy"]).to_pylist()) == {pack}


def test_unmatched_bookings_have_no_case(small_outcomes):
    paths, _ = small_outcomes
    t = pq.read_table(paths["morton-2011"]).to_pydict()
    n_unmatched = 0
    for i, matched in enumerate(t["ident_match"]):
        if matched:
            assert t["action"][i] is not None and t["status_category"][i] is not None
            assert t["priority_bases"][i] is not None
        else:
            n_unmatched += 1
            for col in ("action", "action_rule", "status_category", "level", "priority",
                        "priority_bases", "decline_reason"):  # fmt: skip
                assert t[col][i] is None, col
            assert not t["ice_custody"][i] and not t["removed"][i]
            assert not t["held_past_expiry"][i]
    assert n_unmatched > 0
    assert all(r is None or r in DECLINE_REASONS for r in t["decline_reason"])


def test_custody_and_removal_only_follow_holds(small_outcomes):
    paths, _ = small_outcomes
    for path in paths.values():
        t = pq.read_table(path).to_pydict()
        for i, custody in enumerate(t["ice_custody"]):
            if custody:
                assert t["action"][i] in ("detainer", "conditional_detainer",
                                          "notification_request")  # fmt: skip
            if t["removed"][i]:
                assert custody


def test_common_random_numbers_across_packs(small_outcomes):
    paths, _ = small_outcomes
    a = pq.read_table(paths["morton-2011"]).to_pydict()
    b = pq.read_table(paths["tfsc-2011"]).to_pydict()
    same = differs = 0
    for i in range(len(a["tcn"])):
        if a["action"][i] is not None and a["action"][i] == b["action"][i]:
            same += 1
            assert a["ice_custody"][i] == b["ice_custody"][i], a["tcn"][i]
            assert a["removed"][i] == b["removed"][i], a["tcn"][i]
            assert a["held_past_expiry"][i] == b["held_past_expiry"][i], a["tcn"][i]
        elif a["action"][i] != b["action"][i]:
            differs += 1
    assert same > 100 and differs > 0  # the packs do differ somewhere


def test_minor_traffic_only_gets_no_detainer_under_tfsc(small_outcomes):
    paths, out = small_outcomes
    t = pq.read_table(paths["tfsc-2011"]).to_pydict()
    decisions = pq.read_table(out / "decisions-tfsc-2011.parquet")
    fired = set(pc.filter(decisions["case_id"],
                          decisions["r__actions_tfsc_minor_traffic_only"]).to_pylist())
    assert fired  # the rule applies to some bookings of the nation
    declined = 0
    for i, tcn in enumerate(t["tcn"]):
        if t["charge_category"][i] == "minor_traffic" and t["priority"][i] is None \
                and t["ident_match"][i]:
            assert t["action"][i] in ("no_action", "no_detainer"), tcn
            assert not t["ice_custody"][i]
            declined += t["action"][i] == "no_detainer"
        if tcn in fired and t["action_rule"][i] == "actions.tfsc.minor-traffic-only":
            assert t["action"][i] == "no_detainer" and t["decline_reason"][i] == "minor_traffic"
            assert not t["ice_custody"][i] and not t["removed"][i]
    assert declined > 0


def test_priority_bases_and_summary_match_the_single_case_engine(small_outcomes):
    paths, out = small_outcomes
    for name in ("morton-2011", "tfsc-2011"):
        pack = get_pack(name)
        decisions = pq.read_table(out / f"decisions-{name}.parquet")
        outcomes = pq.read_table(paths[name])
        by_tcn = {r["tcn"]: r for r in outcomes.slice(0).to_pylist() if r["ident_match"]}
        rows = decisions.slice(0, 600).to_pylist()
        for row, decision in zip(rows, decisions_from_outcomes(pack, rows), strict=True):
            o = by_tcn[row["case_id"]]
            assert o["priority_bases"] == list(decision.priority_bases), row["case_id"]
            assert o["priority"] == decision.priority
            assert o["level"] == decision.level
            assert o["action"] == decision.action.value


def test_simulation_is_deterministic_and_draws_are_per_booking(small_nation, nation_params,
                                                               small_outcomes):  # fmt: skip
    _, out = small_outcomes
    pack = get_pack("morton-2011")
    decisions = pq.read_table(out / "decisions-morton-2011.parquet")
    u = draws(small_nation.num_rows, 5)
    a = simulate(small_nation, decisions, pack, nation_params, u)
    b = simulate(small_nation, decisions, pack, nation_params, draws(small_nation.num_rows, 5))
    assert a.equals(b)
    c = simulate(small_nation, decisions, pack, nation_params, draws(small_nation.num_rows, 6))
    assert not a["ice_custody"].equals(c["ice_custody"])
    # the draws of a booking do not depend on how many bookings follow it
    assert np.array_equal(draws(10, 5)["custody"][:3], draws(10, 5)["custody"][:3])
    # a jurisdiction that stops honoring detainers gets fewer people into custody
    honoring = small_nation.set_column(
        small_nation.schema.get_field_index("jurisdiction_honors_detainers"),
        "jurisdiction_honors_detainers", pa.array(np.zeros(small_nation.num_rows, dtype=bool)),
    )
    d = simulate(honoring, decisions, pack, nation_params, u)
    assert pc.sum(d["ice_custody"]).as_py() < pc.sum(a["ice_custody"]).as_py()
    assert pc.sum(d["held_past_expiry"]).as_py() == 0


def test_protected_is_the_packs_finding_and_null_without_a_case(small_outcomes, small_nation):
    paths, _ = small_outcomes
    t = pq.read_table(paths["tfsc-2011"]).to_pydict()
    n = small_nation.to_pydict()
    protection = ("flag_crime_victim", "flag_crime_witness", "flag_domestic_violence_victim",
                  "flag_civil_rights_plaintiff", "person_relief_u_visa", "person_relief_t_visa",
                  "person_relief_vawa")  # fmt: skip
    seen = 0
    for i, matched in enumerate(t["ident_match"]):
        if not matched:
            assert t["protected"][i] is None
            continue
        # DESIGN 3.5: protected exactly when one of the protection facts holds
        assert t["protected"][i] == any(n[c][i] for c in protection), t["tcn"][i]
        if t["decline_reason"][i] == "protected_person":
            assert t["protected"][i]
            seen += 1
    assert seen > 0
