"""Offense categories (DESIGN 3.1) — law/offenses.py, law/ncic.py and the NCIC table."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from securecomm.law import ncic
from securecomm.law.engine import CompiledPack
from securecomm.law.flatten import flatten_case
from securecomm.law.offenses import AGGRAVATED_FELONY_PARAGRAPHS, CATEGORIES, classify_offense
from securecomm.law.packs import PACKS
from securecomm.law.parameters import DEFAULTS, INA
from securecomm.law.schema import Case

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_CSV = ROOT / "src" / "securecomm" / "data" / "ncic_offense_codes.csv"
SHARED_CSV = ROOT.parent / "shared" / "data" / "ncic_offense_codes.csv"
PARAMS = {name: p.value for name, p in DEFAULTS.items()}

_BASE = {
    "case_id": "off-1",
    "decided_at": "2011-10-03T10:00:00-06:00",
    "jurisdiction": {"ori": "CO0010000", "state": "CO", "timezone": "America/Denver"},
    "person": {
        "citizenship_status": "entered_without_inspection",
        "entry": "without_inspection",
        "birth_date": "1980-01-01",
        "entered_us_on": "2000-01-01",
    },
}


def charge_record(ncic_code: str, literal: str = "", severity: str = "misdemeanor", **kw) -> dict:
    c = {"ncic": ncic_code, "literal": literal, "severity": severity, **kw}
    case = Case.model_validate({**_BASE, "arrest": {"charges": [c]}})
    return flatten_case(case)["charges"][0]


def conviction_record(ncic_code: str, severity: str = "misdemeanor", **kw) -> dict:
    c = {"ncic": ncic_code, "severity": severity, **kw}
    case = Case.model_validate({**_BASE, "convictions": [c]})
    return flatten_case(case)["convictions"][0]


def categories(record: dict[str, Any], params: dict[str, Any] = PARAMS) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for entry in classify_offense(record, params):
        assert entry["citation"].strip() and entry["why"].strip(), entry
        found.setdefault(entry["category"], []).append(entry)
    return found


def af_paragraphs(record: dict[str, Any]) -> set[str]:
    """Paragraph letters of the derived aggravated-felony entries (from their citations)."""
    out = set()
    for entry in categories(record).get("aggravated_felony", []):
        if entry["why"].startswith("derived"):
            assert entry["citation"].startswith(INA + "(")
            out.add(entry["citation"][len(INA) + 1 : -1])
    return out


# --------------------------------------------------------------------------- the NCIC table


def _read_csv(path: Path) -> dict[str, str]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == ["ncic_code", "description"]
        rows = [(r["ncic_code"], r["description"]) for r in reader]
    table = dict(rows)
    assert len(table) == len(rows), "duplicate codes in the CSV"
    return table


def test_ncic_module_equals_package_csv() -> None:
    assert _read_csv(PACKAGE_CSV) == ncic.NCIC_OFFENSES


@pytest.mark.skipif(not SHARED_CSV.exists(), reason="shared data directory not present")
def test_ncic_module_equals_shared_csv() -> None:
    assert _read_csv(SHARED_CSV) == ncic.NCIC_OFFENSES


def test_ncic_table_shape() -> None:
    assert len(ncic.NCIC_OFFENSES) == 460
    for code, description in ncic.NCIC_OFFENSES.items():
        assert len(code) == 4 and code.isdigit() and code.isascii(), code
        assert description.strip() == description and description, code
    for code in ("0909", "5401", "5403", "5404", "5499", "4104", "4813", "5311", "5707"):
        assert code in ncic.NCIC_OFFENSES, code


def _code_lists(params) -> list[tuple[str, str]]:
    out = []
    for name, p in params.items():
        if name.endswith("_ncic"):
            out.extend((name, code) for code in p.value)
    return out


@pytest.mark.parametrize("pack", sorted(PACKS))
def test_every_parameter_code_is_in_the_ncic_table(pack) -> None:
    missing = [
        (name, code)
        for name, code in _code_lists(PACKS[pack].parameters)
        if code not in ncic.NCIC_OFFENSES
    ]
    assert not missing


# --------------------------------------------------------------------------- categories


@pytest.mark.parametrize(
    ("record", "expected", "absent"),
    [
        # minor traffic
        (charge_record("5499", "SPEEDING"), {"minor_traffic", "misdemeanor"}, {"serious_traffic"}),
        (
            charge_record("5499", "DRIVING WITHOUT A LICENSE", "infraction"),
            {"minor_traffic"},
            {"misdemeanor"},
        ),
        (
            charge_record("7399", "DRIVING WITHOUT A VALID LICENSE"),
            {"minor_traffic"},
            {"minor_misdemeanor"},
        ),
        (charge_record("5499", "EXPIRED REGISTRATION"), {"minor_traffic"}, set()),
        (charge_record("5499", "RECKLESS DRIVING"), {"minor_traffic"}, {"serious_traffic"}),
        (charge_record("5499", "SPEEDING", "felony"), {"felony"}, {"minor_traffic"}),
        # serious traffic (III rec. 1)
        (charge_record("5401", "HIT AND RUN"), {"serious_traffic"}, {"minor_traffic"}),
        (charge_record("5403"), {"serious_traffic", "significant_misdemeanor"}, {"minor_traffic"}),
        (charge_record("5404"), {"serious_traffic", "significant_misdemeanor"}, {"minor_traffic"}),
        (charge_record("0909", "", "felony"), {"serious_traffic", "felony"}, {"minor_traffic"}),
        (
            charge_record("5499", "RECKLESS DRIVING", injury=True),
            {"serious_traffic"},
            {"minor_traffic"},
        ),
        (charge_record("5499", "SPEEDING", injury=True), {"serious_traffic"}, {"minor_traffic"}),
        (
            charge_record("4899", "FLEEING OR ELUDING POLICE"),
            {"serious_traffic"},
            {"minor_traffic"},
        ),
        # v2: a specific code decides alone; its literal is not read
        (charge_record("4801", "FLEEING OR ELUDING POLICE"), {"misdemeanor"}, {"serious_traffic"}),
        (charge_record("5499", "FLED FROM OFFICER"), {"serious_traffic"}, {"minor_traffic"}),
        (
            charge_record("5499", "DRIVING UNDER THE INFLUENCE"),
            {"serious_traffic"},
            {"minor_traffic"},
        ),
        (charge_record("5499", "DWI"), {"serious_traffic"}, {"minor_traffic"}),
        # minor misdemeanor (public order, Appendix A)
        (charge_record("7399", "LOITERING"), {"minor_misdemeanor"}, {"minor_traffic"}),
        (charge_record("7399", "LOITERING", "infraction"), {"minor_misdemeanor"}, set()),
        (charge_record("7399", "LOITERING", "felony"), {"felony"}, {"minor_misdemeanor"}),
        (charge_record("4104"), {"minor_misdemeanor"}, set()),
        (charge_record("4813"), {"minor_misdemeanor"}, set()),
        (charge_record("5311"), {"minor_misdemeanor"}, set()),
        (charge_record("5707"), {"minor_misdemeanor"}, set()),
        (charge_record("7399", "VAGRANCY"), {"minor_misdemeanor"}, set()),
        (charge_record("7399", "CURFEW"), {"minor_misdemeanor"}, set()),
        (charge_record("7399", "LITTERING"), {"minor_misdemeanor"}, set()),
        (charge_record("7399", "PANHANDLING"), {"minor_misdemeanor"}, set()),
        (charge_record("7399", "PUBLIC INTOXICATION"), {"minor_misdemeanor"}, set()),
        (
            charge_record("2399", "PETTY THEFT"),
            {"misdemeanor"},
            {"minor_misdemeanor", "significant_misdemeanor"},
        ),
        # significant misdemeanor (Johnson 2(b))
        (
            charge_record("1313", "ASSAULT", domestic_violence=True),
            {"significant_misdemeanor"},
            set(),
        ),
        (charge_record("1316"), {"significant_misdemeanor"}, set()),
        (charge_record("3601"), {"significant_misdemeanor"}, set()),
        (charge_record("6402"), {"significant_misdemeanor"}, set()),
        (charge_record("2202"), {"significant_misdemeanor"}, set()),
        (charge_record("5212"), {"significant_misdemeanor"}, set()),
        (charge_record("3530"), {"significant_misdemeanor"}, set()),
        (charge_record("3562"), {"misdemeanor"}, {"significant_misdemeanor"}),
        (
            charge_record("1313", "ASSAULT", "felony", domestic_violence=True),
            {"felony"},
            {"significant_misdemeanor"},
        ),
        (conviction_record("2399", sentence_days=90), {"significant_misdemeanor"}, set()),
        (conviction_record("2399", sentence_days=89), set(), {"significant_misdemeanor"}),
        (
            conviction_record("2399", sentence_days=90, suspended=True),
            set(),
            {"significant_misdemeanor"},
        ),
        (
            conviction_record("2399", "infraction", sentence_days=120),
            set(),
            {"significant_misdemeanor"},
        ),
        # felony / misdemeanor
        (charge_record("2399", "THEFT", "felony"), {"felony"}, {"misdemeanor"}),
        (charge_record("2399", "THEFT", "infraction"), set(), {"felony", "misdemeanor"}),
    ],
)
def test_classification(record, expected, absent) -> None:
    found = categories(record)
    assert expected <= set(found), (record["ncic"], record["literal"], sorted(found))
    assert not (absent & set(found)), (record["ncic"], record["literal"], sorted(found))


def test_each_category_gives_its_reason() -> None:
    expected_citations = {
        "minor_traffic": "III rec. 1",
        "serious_traffic": "III rec. 1",
        "minor_misdemeanor": "Appendix A",
        "significant_misdemeanor": "2(b)",
        "felony": "classification",
        "misdemeanor": "classification",
    }
    assert set(CATEGORIES) == set(expected_citations)
    samples = {
        "minor_traffic": charge_record("5499", "SPEEDING"),
        "serious_traffic": charge_record("5401"),
        "minor_misdemeanor": charge_record("7399", "LOITERING"),
        "significant_misdemeanor": charge_record("2202"),
        "felony": charge_record("2399", "", "felony"),
        "misdemeanor": charge_record("2399"),
    }
    for name, record in samples.items():
        (entry,) = categories(record)[name]
        assert expected_citations[name] in entry["citation"], entry
        assert entry["why"], entry


def test_serious_and_minor_traffic_are_exclusive_over_all_traffic_codes() -> None:
    for code in ("5401", "5403", "5404", "5499", "0909"):
        for severity in ("infraction", "misdemeanor", "felony"):
            for injury in (False, True):
                found = categories(charge_record(code, "", severity, injury=injury))
                assert not {"minor_traffic", "serious_traffic"} <= set(found), (code, severity)


def test_literal_matching_is_case_insensitive() -> None:
    assert "minor_misdemeanor" in categories(charge_record("7399", "Loitering in a park"))
    assert "serious_traffic" in categories(charge_record("4899", "fleeing"))


@pytest.mark.parametrize(
    "literal", ["HIT-AND-RUN", "LEAVING THE SCENE OF AN ACCIDENT", "DRIVING WHILE INTOXICATED"]
)
def test_serious_traffic_literal_spellings(literal) -> None:
    found = categories(charge_record("5499", literal))
    assert "serious_traffic" in found and "minor_traffic" not in found


# --------------------------------------------------------------------------- aggravated felony

PARAGRAPH_SAMPLES: dict[str, dict] = {
    "A": {"ncic": "0901", "severity": "felony"},
    "B": {"ncic": "3530", "severity": "felony"},
    "C": {"ncic": "5217", "severity": "felony"},
    "D": {"ncic": "6300", "severity": "felony"},
    "E": {"ncic": "5206", "severity": "felony"},
    "F": {"ncic": "1315", "severity": "felony", "sentence_days": 365},
    "G": {"ncic": "2399", "severity": "felony", "sentence_days": 365},
    "H": {"ncic": "1002", "severity": "felony"},
    "I": {"ncic": "6401", "severity": "felony"},
    "K": {"ncic": "4002", "severity": "felony"},
    "N": {"ncic": "0303", "severity": "felony"},
    "R": {"ncic": "2589", "severity": "felony", "sentence_days": 365},
    "S": {"ncic": "5003", "severity": "felony", "sentence_days": 365},
}
SENTENCE_PARAGRAPHS = ("F", "G", "R", "S")


def test_paragraph_list() -> None:
    assert [p.paragraph for p in AGGRAVATED_FELONY_PARAGRAPHS] == list(PARAGRAPH_SAMPLES)
    for p in AGGRAVATED_FELONY_PARAGRAPHS:
        assert p.needs_sentence is (p.paragraph in SENTENCE_PARAGRAPHS)
        assert p.citation == f"{INA}({p.paragraph})"


@pytest.mark.parametrize("paragraph", sorted(PARAGRAPH_SAMPLES))
def test_paragraph_derived_with_its_citation(paragraph) -> None:
    sample = PARAGRAPH_SAMPLES[paragraph]
    record = conviction_record(sample["ncic"], **{k: v for k, v in sample.items() if k != "ncic"})
    assert paragraph in af_paragraphs(record)


@pytest.mark.parametrize("paragraph", sorted(PARAGRAPH_SAMPLES))
def test_paragraph_appears_in_decision_reasons(paragraph) -> None:
    case = Case.model_validate({**_BASE, "convictions": [PARAGRAPH_SAMPLES[paragraph]]})
    d = CompiledPack(PACKS["morton-2011"]).decide(case)
    reasons = {r.rule: r for r in d.reasons}
    reason = reasons[f"levels.aggravated-felony.{paragraph}"]
    assert reason.citation.endswith(f"({paragraph})")
    assert d.level == 1
    assert "removability.ground.aggravated-felony" not in reasons  # EWI: removable anyway


@pytest.mark.parametrize("paragraph", SENTENCE_PARAGRAPHS)
def test_sentence_threshold_364_365(paragraph) -> None:
    sample = PARAGRAPH_SAMPLES[paragraph]
    code, severity = sample["ncic"], sample["severity"]
    assert paragraph not in af_paragraphs(conviction_record(code, severity))
    assert paragraph not in af_paragraphs(conviction_record(code, severity, sentence_days=364))
    assert paragraph in af_paragraphs(conviction_record(code, severity, sentence_days=365))
    assert paragraph in af_paragraphs(conviction_record(code, severity, sentence_days=3650))


@pytest.mark.parametrize("paragraph", SENTENCE_PARAGRAPHS)
def test_suspended_sentence_counts_for_aggravated_felony(paragraph) -> None:
    """INA 101(a)(48)(B): the term of imprisonment includes a suspended sentence."""
    sample = PARAGRAPH_SAMPLES[paragraph]
    record = conviction_record(sample["ncic"], "misdemeanor", sentence_days=365, suspended=True)
    assert paragraph in af_paragraphs(record)


def test_suspended_sentence_counts_for_f_but_not_for_significant_misdemeanor() -> None:
    """One suspended one-year assault sentence: (F) yes (101(a)(48)(B)); Johnson 2(b) no."""
    record = conviction_record("1399", sentence_days=365, suspended=True)
    found = categories(record)
    assert "F" in af_paragraphs(record)
    assert "significant_misdemeanor" not in found
    record = conviction_record("1399", sentence_days=365)
    assert "significant_misdemeanor" in categories(record)


@pytest.mark.parametrize("paragraph", sorted(PARAGRAPH_SAMPLES))
def test_explicit_false_overrides_derivation(paragraph) -> None:
    sample = PARAGRAPH_SAMPLES[paragraph]
    record = conviction_record(
        sample["ncic"],
        **{k: v for k, v in sample.items() if k != "ncic"},
        aggravated_felony=False,
    )
    assert "aggravated_felony" not in categories(record)


def test_explicit_false_overrides_derivation_in_the_engine() -> None:
    convictions = [{**PARAGRAPH_SAMPLES["A"], "aggravated_felony": False}]
    case = Case.model_validate({**_BASE, "convictions": convictions})
    d = CompiledPack(PACKS["morton-2011"]).decide(case)
    assert d.level == 2
    assert not [r for r in d.reasons if r.rule.startswith("levels.aggravated-felony")]


def test_explicit_true_is_an_aggravated_felony_cited_to_the_statute() -> None:
    record = conviction_record("2399", aggravated_felony=True)
    (entry,) = categories(record)["aggravated_felony"]
    assert entry["citation"] == INA
    assert entry["why"] == "recorded as an aggravated felony"


def test_explicit_true_does_not_also_derive() -> None:
    record = conviction_record("0901", "felony", aggravated_felony=True)
    assert af_paragraphs(record) == set()
    assert len(categories(record)["aggravated_felony"]) == 1


@pytest.mark.parametrize(
    "sample",
    [
        {"ncic": "2699", "severity": "felony", "sentence_days": 3650},  # fraud (M): amount unknown
        {"ncic": "2602", "severity": "felony"},
        {"ncic": "0909", "severity": "felony", "sentence_days": 3650},  # negligent: not (F)
        {"ncic": "1313", "severity": "misdemeanor", "sentence_days": 365},  # simple assault
        {"ncic": "3562", "severity": "felony"},  # possession is not trafficking (B)
        {"ncic": "5212", "severity": "felony"},  # possession is not trafficking (C)
        {"ncic": "0301", "severity": "felony"},  # illegal entry is not smuggling (N)
    ],
)
def test_not_derived(sample) -> None:
    record = conviction_record(sample["ncic"], **{k: v for k, v in sample.items() if k != "ncic"})
    assert "aggravated_felony" not in categories(record), categories(record)


def test_murder_is_a_and_f_with_a_sentence() -> None:
    assert af_paragraphs(conviction_record("0901", "felony")) == {"A"}
    assert af_paragraphs(conviction_record("0901", "felony", sentence_days=7300)) == {"A", "F"}


def test_classification_uses_the_given_parameters() -> None:
    """classify_offense reads parameters, not constants: a variant's values change it."""
    params = {**PARAMS, "offenses.significant_misdemeanor_sentence_days": 30}
    record = conviction_record("2399", sentence_days=45)
    assert "significant_misdemeanor" not in categories(record)
    assert "significant_misdemeanor" in categories(record, params)
    params = {**PARAMS, "aggravated_felony.min_sentence_days": 180}
    record = conviction_record("2399", sentence_days=200)
    assert "G" not in af_paragraphs(record)
    assert "G" in {
        e["citation"][-2]
        for e in classify_offense(record, params)
        if e["why"].startswith("derived")
    }


# --------------------------------------------------------------------------- v2: code decides


@pytest.mark.parametrize(
    "literal",
    ["DUI", "DWI", "DWAI", "DUID", "OVI", "OWI", "DRUNK DRIVING", "DRIVING UNDER INFLUENCE",
     "DRIVING UNDER THE INFLUENCE OF ALCOHOL", "LEAVING THE SCENE", "HIT AND RUN",
     "FAILURE TO STOP AT SCENE OF ACCIDENT", "FLEEING", "ELUDING A POLICE OFFICER"],
)  # fmt: skip
def test_5499_serious_literals(literal) -> None:
    """v2 3.1: under 5499 these literals are serious traffic (III rec. 1), never minor."""
    found = categories(charge_record("5499", literal))
    assert "serious_traffic" in found and "minor_traffic" not in found, (literal, sorted(found))


@pytest.mark.parametrize("literal", ["DUI", "DRUNK DRIVING", "DWAI"])
def test_dui_literal_is_a_significant_misdemeanor(literal) -> None:
    """Johnson 2(b) names DUI; booked under 5499 it is one too."""
    assert "significant_misdemeanor" in categories(charge_record("5499", literal))


@pytest.mark.parametrize(
    ("code", "literal"),
    [("3616", "LOITERING"), ("3616", "SPEEDING"), ("2206", "EQUIPMENT"),
     ("2206", "POSSESSION OF BURGLARY EQUIPMENT"), ("0999", "SPEEDING"), ("1199", "LOITERING"),
     ("3599", "SPEEDING"), ("2303", "TRESPASSING")],
)  # fmt: skip
def test_a_literal_never_makes_a_specific_or_serious_code_minor(code, literal) -> None:
    found = categories(charge_record(code, literal))
    assert not {"minor_traffic", "minor_misdemeanor"} & set(found), (code, literal, sorted(found))


def test_a_literal_is_not_read_on_a_specific_code() -> None:
    assert "serious_traffic" not in categories(charge_record("4801", "FLEEING"))
    assert "serious_traffic" in categories(charge_record("4899", "FLEEING"))
    assert "minor_traffic" in categories(charge_record("7399", "SPEEDING"))


@pytest.mark.parametrize("severity", ["infraction", "misdemeanor"])
@pytest.mark.parametrize(
    ("code", "literal"),
    [("7399", "LOITERING"), ("5311", "DISORDERLY CONDUCT"), ("5499", "SPEEDING"),
     ("1313", "SIMPLE ASSAULT")],
)  # fmt: skip
def test_domestic_violence_is_never_minor(code, literal, severity) -> None:
    """v2: a charge with domestic_violence true is a significant misdemeanor, never minor."""
    found = categories(charge_record(code, literal, severity, domestic_violence=True))
    assert not {"minor_traffic", "minor_misdemeanor"} & set(found), sorted(found)
    assert "significant_misdemeanor" in found, sorted(found)


def test_domestic_violence_felony_keeps_its_felony_category() -> None:
    found = categories(charge_record("1313", "ASSAULT", "felony", domestic_violence=True))
    assert "felony" in found and "significant_misdemeanor" not in found


_SEVERITIES = ("infraction", "misdemeanor", "felony")
_LITERALS = ("", "SPEEDING", "LOITERING", "DUI", "EQUIPMENT", "HIT AND RUN", "TRESPASSING",
             "DRIVING WITHOUT A LICENSE", "PUBLIC INTOXICATION", "FLEEING POLICE")  # fmt: skip
_MINOR = {"minor_traffic", "minor_misdemeanor"}


def test_no_literal_lowers_the_category_of_a_specific_code_exhaustive() -> None:
    """v2 property over every code of the table: on a specific (non catch-all) code the literal
    changes nothing; on a catch-all code it never makes a charge minor unless the code is one of
    the public-order catch-alls (offenses.minor_refinable_ncic)."""
    from securecomm.law.offenses import offense_classifier

    classify = offense_classifier(PARAMS)
    template = charge_record("5499")

    def cats(code: str, literal: str, severity: str) -> set[str]:
        record = {**template, "ncic": code, "literal": literal, "severity": severity}
        return {c["category"] for c in classify(record)}

    generic = set(PARAMS["offenses.generic_ncic"])
    refinable = set(PARAMS["offenses.minor_refinable_ncic"])
    for code in ncic.NCIC_OFFENSES:
        for severity in _SEVERITIES:
            bare = cats(code, "", severity)
            for literal in _LITERALS:
                got = cats(code, literal, severity)
                if code not in generic:
                    assert got == bare, (code, literal, severity)
                elif code not in refinable:
                    assert not (_MINOR & got) - bare, (code, literal, severity)


@pytest.mark.parametrize(
    ("code", "expected"),
    [("0901", "felony"), ("0999", "felony"), ("0909", "felony"), ("1101", "felony"),
     ("3530", "felony"), ("2202", "felony"), ("5499", "misdemeanor"), ("1313", "misdemeanor"),
     ("7399", "misdemeanor"), ("3562", "misdemeanor")],
)  # fmt: skip
def test_default_severity_from_the_code_family(code, expected) -> None:
    from securecomm.law.offenses import default_severity

    assert default_severity(code, PARAMS) == expected
