from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pytest

from securecomm.identity.aliases import aliases_for, name_key

ENCOUNTERS = pd.DataFrame(
    [
        {"identity_id": 7, "encounter_id": "E3", "first_name": "JOSE", "last_name": "GARCIA LOPEZ", "dob": "1980-03-04", "encounter_date": "2010-01-01"},
        {"identity_id": 7, "encounter_id": "E1", "first_name": "José", "last_name": "García-López", "dob": dt.date(1980, 3, 4), "encounter_date": "2008-05-01"},
        {"identity_id": 7, "encounter_id": "E2", "first_name": "Pepe", "last_name": "Garcia", "dob": "1980-04-03", "encounter_date": "2009-02-01"},
        {"identity_id": 7, "encounter_id": "E4", "first_name": "jose", "last_name": "garcia  lopez", "dob": None, "encounter_date": "2011-01-01"},
        {"identity_id": 7, "encounter_id": "E5", "first_name": None, "last_name": None, "dob": "1980", "encounter_date": "2012-01-01"},
        {"identity_id": 8, "encounter_id": "E9", "first_name": "ANA", "last_name": "RUIZ", "dob": "1990-01-01", "encounter_date": "2012-01-01"},
    ]
)  # fmt: skip


def test_every_name_used_deduplicated_with_original_spellings():
    rep = aliases_for(ENCOUNTERS, 7)
    assert rep.name_list == ["José García-López", "Pepe Garcia"]  # first seen by encounter date
    first = rep.names[0]
    assert first.spellings == ("José García-López", "JOSE GARCIA LOPEZ", "jose garcia lopez")
    assert first.encounter_ids == ("E1", "E3", "E4")
    assert rep.dates_of_birth == ("1980-03-04", "1980-04-03", "1980")
    assert rep.encounter_count == 5
    assert "ANA RUIZ" not in rep.name_list


def test_arrow_table_and_single_name_column():
    table = pa.table({"identity_id": [1, 1, 1], "encounter_id": [1, 2, 3],
                      "name": ["Li Wei", "LI  WEI", "Wei Li"]})  # fmt: skip
    rep = aliases_for(table, 1)
    assert rep.name_list == ["Li Wei", "Wei Li"]  # swapped order is a distinct alias
    assert rep.to_dict()["names"][0]["spellings"] == ["Li Wei", "LI WEI"]


def test_name_key():
    assert name_key("  O'Brien-Núñez ") == "o brien nunez"
    assert name_key(None) == ""


def test_errors_name_the_problem():
    with pytest.raises(KeyError, match="identity_id 99"):
        aliases_for(ENCOUNTERS, 99)
    with pytest.raises(ValueError, match="'encounter_id'"):
        aliases_for(ENCOUNTERS.drop(columns=["encounter_id"]), 7)
    with pytest.raises(ValueError, match="'name' column"):
        aliases_for(ENCOUNTERS.drop(columns=["first_name"]), 7)
    with pytest.raises(TypeError, match="DataFrame"):
        aliases_for([{"identity_id": 1}], 1)
