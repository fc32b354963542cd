"""County names in the published statistics come from addfips, and unknown counties are labelled."""

import addfips
import pyarrow as pa

from securecomm.stats.places import UNKNOWN_COUNTY, county_name, county_state, with_county_names


def _addfips_name(state: str, fips: str) -> str:
    # Reverse addfips' own lookup: the name we return must map back to the same FIPS.
    return addfips.AddFIPS().get_county_fips(county_name(fips), state=state)


def test_known_fips_named_as_addfips_names_them():
    for state, fips in (("TX", "48453"), ("CA", "06037"), ("IL", "17031"), ("NY", "36061")):
        assert county_name(fips) != UNKNOWN_COUNTY
        assert county_state(fips) == state
        assert _addfips_name(state, fips) == fips


def test_unknown_county_labelled_not_dropped():
    t = pa.table({"ori": ["TX4530000", "ZZ0000000", "XX"], "county_fips": ["48453", "99999", None]})
    out = with_county_names(t)
    assert out.num_rows == 3
    assert out.column("county_name").to_pylist()[1:] == [UNKNOWN_COUNTY, UNKNOWN_COUNTY]
    assert out.column("state").to_pylist() == ["TX", None, None]
    assert out.schema.names == ["ori", "county_fips", "state", "county_name"]


def test_existing_state_column_kept():
    t = pa.table({"state": ["TX"], "county_fips": ["48453"]})
    out = with_county_names(t)
    assert out.schema.names == ["state", "county_fips", "county_name"]
