from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from securecomm.identity.biographic import (
    BiographicLinker,
    corrupt_record,
    prepare_records,
    synthetic_encounters,
)


@pytest.fixture(scope="module")
def encounters() -> pd.DataFrame:
    return synthetic_encounters(1500, seed=3)


@pytest.fixture(scope="module")
def linker(encounters) -> BiographicLinker:
    return BiographicLinker.train(encounters, u_max_pairs=5e5)


def _true_record(encounters, identity_id):
    row = encounters[encounters.identity_id == identity_id].iloc[0]
    return row[["first_name", "last_name", "dob", "sex", "place_of_birth"]].to_dict()


def test_model_has_trained_parameters(linker):
    comps = {c["output_column_name"]: c for c in linker.model["comparisons"]}
    assert set(comps) == {"name", "dob", "sex", "place_of_birth"}
    dob_levels = [lvl.get("label_for_charts") for lvl in comps["dob"]["comparison_levels"]]
    assert "day and month transposed" in dob_levels
    exact = comps["name"]["comparison_levels"][1]
    assert exact["m_probability"] > exact["u_probability"] * 100


def test_typod_booking_finds_its_identity_and_requires_human(encounters, linker):
    rec = _true_record(encounters, 421)
    booking = dict(rec, booking_id="B1")
    booking["last_name"] = booking["last_name"][:2] + booking["last_name"][3:]  # dropped letter
    booking["first_name"] = (
        booking["first_name"][0]
        + booking["first_name"][2]
        + booking["first_name"][1]
        + booking["first_name"][3:]
    )
    out = linker.link(pd.DataFrame([booking]), encounters)
    assert not out.empty
    top = out.iloc[0]
    assert top["booking_id"] == "B1"
    assert top["identity_id"] == 421
    assert top["match_probability"] > 0.5
    assert (out["requires_human_verification"] == True).all()  # noqa: E712
    assert (out["confidence"] == "biographic").all()


def test_swapped_names_and_transposed_dob_still_link(encounters, linker):
    rec = _true_record(encounters, 77)
    y, m, d = rec["dob"].split("-")
    booking = dict(rec, booking_id="B2", first_name=rec["last_name"], last_name=rec["first_name"])
    if int(d) <= 12:
        booking["dob"] = f"{y}-{d}-{m}"
    out = linker.link(pd.DataFrame([booking]), encounters)
    assert 77 in set(out["identity_id"].head(3))


def test_noisy_bookings_recall(encounters, linker):
    rng = np.random.default_rng(5)
    idents = rng.choice(1500, 60, replace=False)
    rows = [
        dict(corrupt_record(rng, _true_record(encounters, int(i))), booking_id=f"B{i}")
        for i in idents
    ]
    out = linker.link(pd.DataFrame(rows), encounters, top_n=1)
    found = dict(zip(out["booking_id"], out["identity_id"], strict=True))
    hits = sum(found.get(f"B{i}") == i for i in idents)
    assert hits >= 0.85 * len(idents)


def test_save_and_load_model(tmp_path, linker, encounters):
    path = tmp_path / "bio.json"
    linker.save(path)
    again = BiographicLinker.load(path)
    booking = dict(_true_record(encounters, 9), booking_id="B9")
    a = linker.link(pd.DataFrame([booking]), encounters)
    b = again.link(pd.DataFrame([booking]), encounters)
    pd.testing.assert_frame_equal(a, b)


def test_bad_inputs(linker, encounters):
    with pytest.raises(ValueError, match="bookings is empty"):
        linker.link(pd.DataFrame(columns=["booking_id", "first_name", "last_name"]), encounters)
    with pytest.raises(ValueError, match="'booking_id'"):
        linker.link(pd.DataFrame([{"first_name": "A", "last_name": "B"}]), encounters)


def test_prepare_records_parses_partial_dobs():
    df = pd.DataFrame({"rid": [1, 2, 3, 4], "first_name": ["José", "x", None, "A"], "last_name": ["García", "y", "z", "B"],
                       "dob": ["1980-03-04", "1980-03", "1980", None], "sex": ["m", "F", "X", None]})  # fmt: skip
    out = prepare_records(df, id_column="rid")
    assert out["first_name"].tolist()[0] == "JOSE"
    assert out["dob_year"].tolist()[:3] == [1980, 1980, 1980]
    assert out["dob_month"][1] == 3 and pd.isna(out["dob_month"][2]) and pd.isna(out["dob_day"][1])
    assert out["sex"][:2].tolist() == ["M", "F"] and out["sex"][2:].isna().all()
