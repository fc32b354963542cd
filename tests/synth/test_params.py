"""nation_params.yaml: provenance on every entry; errors name the parameter; hostile YAML."""

from __future__ import annotations

import copy

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from securecomm.synth.params import (
    DEFAULT_PATH,
    SPEC,
    ParamsError,
    load_params,
    parse_params,
    validate_document,
)

TEXT = DEFAULT_PATH.read_text(encoding="utf-8")
DOC = yaml.safe_load(TEXT)


def dump(doc) -> str:
    return yaml.safe_dump(doc, sort_keys=False)


def test_packaged_parameters_load_with_provenance():
    params = load_params()
    assert set(params) == set(SPEC)
    for name, meta in params.meta.items():
        assert meta.source.strip(), name
        if meta.calibrated:
            assert meta.target and meta.rationale, name
        if "synthetic" in meta.source.lower():
            assert meta.rationale, name
    assert sum(m.calibrated for m in params.meta.values()) >= 8


def test_round_trip_through_yaml_dump_is_the_same():
    assert dict(parse_params(dump(DOC))) == dict(load_params())


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["honors_detainers_share"].pop("source"),
         r"honors_detainers_share: missing 'source'"),
        (lambda d: d["honors_detainers_share"].update(source="  "),
         r"honors_detainers_share: missing 'source'"),
        (lambda d: d["honors_detainers_share"].update(value="most"),
         r"honors_detainers_share: expected a finite number, got 'most'"),
        (lambda d: d["honors_detainers_share"].update(value=1.5),
         r"honors_detainers_share: expected a probability"),
        (lambda d: d["custody_rate"]["value"].update(convicted=True),
         r"custody_rate.convicted: expected a finite number"),
        (lambda d: d["custody_rate"]["value"].pop("charged_only"),
         r"custody_rate: missing key\(s\) charged_only"),
        (lambda d: d["disclosure_mix"]["value"].update(partial=0.1),
         r"disclosure_mix: unknown key 'partial'"),
        (lambda d: d["disclosure_mix"].update(value={"full": 0, "public_safety_only": 0,
                                                     "none": 0}),
         r"disclosure_mix: weights must not all be zero"),
        (lambda d: d.pop("false_match_rate"), r"missing parameter\(s\): false_match_rate"),
        (lambda d: d.update(warp_factor={"value": 9, "source": "x"}),
         r"unknown parameter\(s\): warp_factor"),
        (lambda d: d["custody_rate"].pop("target"),
         r"custody_rate: a calibrated parameter needs 'target'"),
        (lambda d: d["injury_rate"].pop("rationale"),
         r"injury_rate: a synthetic parameter needs a 'rationale'"),
        (lambda d: d["offense_catalog"]["value"][3].update(ncic="0000"),
         r"offense_catalog\[3\].ncic: '0000' is not an NCIC offense code"),
        (lambda d: d["offense_catalog"]["value"][0].update(severity="capital"),
         r"offense_catalog\[0\].severity"),
        (lambda d: d["rollout_milestones"]["value"][2].update(count=50),
         r"rollout_milestones\[2\]: dates and counts must increase"),
        (lambda d: d["rollout_milestones"]["value"][-1].update(count=3000),
         r"rollout_milestones: the last milestone's count must be 'all'"),
        (lambda d: d["rollout_first_activation"].update(value="last tuesday"),
         r"rollout_first_activation: expected a date"),
        (lambda d: d["booking_hour_weights"].update(value=[1, 2, 3]),
         r"booking_hour_weights: expected a list of 24 weights"),
        (lambda d: d["age_gamma"].update(value=[2, 7]), r"age_gamma: expected a mapping"),
        (lambda d: d["female_share"].update(calibrated="yes"),
         r"female_share: 'calibrated' must be true or false"),
        (lambda d: d["female_share"].update(colour="red"), r"female_share: unknown key\(s\) colour"),
        (lambda d: d.update(female_share=0.25), r"female_share: expected a mapping with value"),
    ],
)
def test_errors_name_the_parameter(mutate, message):
    doc = copy.deepcopy(DOC)
    mutate(doc)
    with pytest.raises(ParamsError, match=message):
        parse_params(dump(doc))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("!!python/object/apply:os.system ['echo pwned']", "not valid YAML"),
        ("- 1\n- 2\n", "expected a mapping of parameters"),
        ("", "expected a mapping of parameters"),
        ("a: [1, 2\n", "not valid YAML"),
        ("female_share: {value: 0.2, source: x}\nfemale_share: {value: 0.3, source: y}\n",
         "duplicate key 'female_share'"),
        ("? [1, 2]\n: 3\n", "unhashable key|unknown parameter"),
        ("a: &a [*a, *a]\n", "unknown parameter|not valid YAML"),
        ("x: " + "[" * 5000 + "]" * 5000, "not valid YAML|unknown parameter"),
    ],
)
def test_hostile_yaml_is_refused_with_a_message(text, message):
    with pytest.raises(ParamsError, match=message):
        parse_params(text)


def test_billion_laughs_does_not_expand():
    lol = "a: &a [x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 9):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        lol += f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 9) + "]\n"
    with pytest.raises(ParamsError, match="unknown parameter"):
        parse_params(lol)


def test_oversized_file_is_refused_unread(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text("#" * 2_000_000)
    with pytest.raises(ParamsError, match="larger than"):
        load_params(big)
    with pytest.raises(ParamsError, match="cannot read"):
        load_params(tmp_path / "missing.yaml")


_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8)),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=8,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(sorted(SPEC)), value=_values)
def test_any_value_is_accepted_or_refused_naming_the_parameter(name, value):
    doc = copy.deepcopy(DOC)
    doc[name]["value"] = value
    try:
        params = validate_document(doc)
    except ParamsError as exc:
        assert str(exc).startswith(name), str(exc)
    else:
        assert name in params
