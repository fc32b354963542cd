"""Offense categories of one charge or conviction (DESIGN 3.1), as item predicates.

Each function returns an expression over the fields of one offense record (``Item``); rules
quantify over ``charges`` or ``convictions`` with them. Every code list, pattern and threshold is
a parameter (``parameters.py``) with its citation. ``classify_offense`` applies the same
predicates to one offense for humans (``securecomm offenses classify``), saying why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .expr import Expr, Item, Param, PythonCompiler, all_of, any_of, bind_params
from .parameters import INA, JOHNSON, TF

ncic = Item("ncic")
literal = Item("literal")
severity = Item("severity")


def is_misdemeanor_or_less() -> Expr:
    return severity.isin(("infraction", "misdemeanor"))


def is_felony() -> Expr:
    return severity.eq("felony")


def is_misdemeanor() -> Expr:
    return severity.eq("misdemeanor")


def is_generic_code() -> Expr:
    """A catch-all code (5499 and the codes ending in 99): only its literal refines it."""
    return ncic.isin(Param("offenses.generic_ncic"))


def is_minor_refinable_code() -> Expr:
    """A catch-all code of a public-order family: only here may a literal make a charge minor."""
    return ncic.isin(Param("offenses.minor_refinable_ncic"))


def is_dui_literal() -> Expr:
    """Driving under the influence or impaired, named by the literal of a generic code."""
    return is_generic_code() & literal.matches(Param("offenses.dui_literal_pattern"))


def _serious_traffic_literal() -> Expr:
    return all_of(
        is_generic_code(),
        any_of(
            literal.matches(Param("offenses.serious_traffic_literal_pattern")),
            literal.matches(Param("offenses.dui_literal_pattern")),
        ),
    )


def is_traffic() -> Expr:
    """A traffic offense: a traffic code, or a generic code whose literal names one (NCIC has
    no code for many traffic offenses). The literal of a specific code is never read."""
    return any_of(
        ncic.isin(Param("offenses.minor_traffic_ncic")),
        ncic.isin(Param("offenses.serious_traffic_ncic")),
        is_minor_refinable_code() & literal.matches(Param("offenses.minor_traffic_literal_pattern")),
        _serious_traffic_literal(),
    )


def is_serious_traffic() -> Expr:
    """Hit-and-run, DUI, negligent vehicular manslaughter, fleeing/eluding, reckless driving
    (any traffic offense) with injury — TF III rec. 1. By code; by literal only on a generic
    code (a literal raises a catch-all, never a specific code)."""
    traffic_with_injury = all_of(Item("injury").eq(True), is_traffic())
    return any_of(
        ncic.isin(Param("offenses.serious_traffic_ncic")),
        _serious_traffic_literal(),
        traffic_with_injury,
    )


def is_domestic_violence() -> Expr:
    return any_of(
        Item("domestic_violence").eq(True), ncic.isin(Param("offenses.domestic_violence_ncic"))
    )


def is_minor_traffic() -> Expr:
    """Traffic offense at infraction or misdemeanor severity that is not serious traffic and not
    domestic violence (which is never minor)."""
    return all_of(
        is_traffic(), is_misdemeanor_or_less(), ~is_serious_traffic(), ~is_domestic_violence()
    )


def is_minor_misdemeanor() -> Expr:
    """Non-traffic public-order misdemeanor or infraction (loitering, Appendix A): by code, or
    by the literal of a public-order catch-all code; never domestic violence."""
    public_order = any_of(
        ncic.isin(Param("offenses.minor_misdemeanor_ncic")),
        is_minor_refinable_code()
        & literal.matches(Param("offenses.minor_misdemeanor_literal_pattern")),
    )
    return all_of(public_order, is_misdemeanor_or_less(), ~is_traffic(), ~is_domestic_violence())


def is_firearm() -> Expr:
    return ncic.isin(Param("offenses.firearm_ncic"))


def is_significant_misdemeanor() -> Expr:
    """Johnson 2014 2(b): DV, sexual abuse/exploitation, burglary, firearm, drug distribution,
    DUI, or a custodial sentence of 90+ days (suspended excluded)."""
    long_sentence = all_of(
        Item("sentence_days").ge(Param("offenses.significant_misdemeanor_sentence_days")),
        Item("suspended").eq(False),
    )
    listed = all_of(
        is_misdemeanor(),
        any_of(
            ncic.isin(Param("offenses.significant_misdemeanor_sexual_ncic")),
            ncic.isin(Param("offenses.burglary_ncic")),
            is_firearm(),
            ncic.isin(Param("offenses.drug_trafficking_ncic")),
            ncic.isin(Param("offenses.dui_ncic")),
            is_dui_literal(),
            long_sentence,
        ),
    )
    # domestic violence is never minor: at infraction or misdemeanor severity it is significant
    return any_of(listed, is_misdemeanor_or_less() & is_domestic_violence())


def is_status_offense() -> Expr:
    return ncic.isin(Param("offenses.immigration_status_offense_ncic"))


def is_federal_status_offense() -> Expr:
    """A status offense that is federal (illegal entry / re-entry, 8 U.S.C. 1325-1326)."""
    return is_status_offense() & any_of(
        ncic.isin(Param("offenses.federal_immigration_offense_ncic")),
        literal.matches(Param("offenses.federal_offense_literal_pattern")),
    )


def is_state_or_local_status_offense() -> Expr:
    """Johnson 1(d): a state or local offense whose essential element is immigration status."""
    return is_status_offense() & ~is_federal_status_offense()


def is_controlled_substance() -> Expr:
    return ncic.isin(Param("offenses.controlled_substance_ncic"))


def is_simple_marijuana_possession() -> Expr:
    return ncic.isin(Param("offenses.simple_marijuana_possession_ncic"))


def is_moral_turpitude() -> Expr:
    return ncic.isin(Param("offenses.moral_turpitude_ncic"))


@dataclass(frozen=True)
class AggravatedFelonyParagraph:
    paragraph: str  # "A", "B", ...
    description: str
    needs_sentence: bool

    @property
    def citation(self) -> str:
        return f"{INA}({self.paragraph})"

    def derived(self) -> Expr:
        code = ncic.isin(Param(f"aggravated_felony.{self.paragraph}_ncic"))
        if not self.needs_sentence:
            return code
        # INA 101(a)(48)(B): the sentence counts regardless of suspension
        return code & Item("sentence_days").ge(Param("aggravated_felony.min_sentence_days"))


AGGRAVATED_FELONY_PARAGRAPHS = (
    AggravatedFelonyParagraph("A", "murder, rape or sexual abuse of a minor", False),
    AggravatedFelonyParagraph("B", "illicit trafficking in a controlled substance", False),
    AggravatedFelonyParagraph("C", "illicit trafficking in firearms or destructive devices", False),
    AggravatedFelonyParagraph("D", "money laundering", False),
    AggravatedFelonyParagraph("E", "explosive-materials or firearms offense", False),
    AggravatedFelonyParagraph("F", "crime of violence with a sentence of a year or more", True),
    AggravatedFelonyParagraph("G", "theft or burglary with a sentence of a year or more", True),
    AggravatedFelonyParagraph("H", "ransom", False),
    AggravatedFelonyParagraph("I", "child pornography", False),
    AggravatedFelonyParagraph("K", "prostitution business or transport for prostitution", False),
    AggravatedFelonyParagraph("N", "alien smuggling", False),
    AggravatedFelonyParagraph("R", "forgery or counterfeiting with a sentence of a year or more", True),
    AggravatedFelonyParagraph("S", "obstruction of justice or perjury with a sentence of a year or more", True),
)  # fmt: skip
# (M) fraud is not derived because the loss amount is unknown.


def is_aggravated_felony_by(paragraph: AggravatedFelonyParagraph) -> Expr:
    """Derived under ``paragraph`` — only when no explicit finding was recorded."""
    return Item("aggravated_felony").is_null() & paragraph.derived()


def is_explicit_aggravated_felony() -> Expr:
    return Item("aggravated_felony").eq(True)


def is_aggravated_felony() -> Expr:
    return any_of(
        is_explicit_aggravated_felony(),
        *(is_aggravated_felony_by(p) for p in AGGRAVATED_FELONY_PARAGRAPHS),
    )


# --------------------------------------------------------------------------- for humans


CATEGORIES: dict[str, tuple[Any, str, str]] = {
    "minor_traffic": (is_minor_traffic, f"{TF} III rec. 1", "traffic offense at infraction or "
                      "misdemeanor severity, not serious traffic"),
    "serious_traffic": (is_serious_traffic, f"{TF} III rec. 1", "DUI, hit-and-run, vehicular "
                        "manslaughter, fleeing/eluding, or a traffic offense with injury"),
    "minor_misdemeanor": (is_minor_misdemeanor, f"{TF} III rec. 1, fn. 21, Appendix A",
                          "non-traffic public-order misdemeanor or infraction"),
    "significant_misdemeanor": (is_significant_misdemeanor, f"{JOHNSON} 2(b)",
                                "misdemeanor of a listed kind or with 90+ days' custody"),
    "felony": (is_felony, "convicting jurisdiction's classification", "classed as a felony"),
    "misdemeanor": (is_misdemeanor, "convicting jurisdiction's classification",
                    "classed as a misdemeanor"),
}  # fmt: skip


def offense_classifier(params: Mapping[str, Any]):
    """``classify_offense`` with the predicates compiled once: a function of one offense."""
    compiler = PythonCompiler({})

    def compiled(predicate: Expr):
        return compiler.compile(bind_params(predicate, params))

    tests = [(name, compiled(predicate()), citation, why)
             for name, (predicate, citation, why) in CATEGORIES.items()]  # fmt: skip
    tests.append(("aggravated_felony", compiled(is_explicit_aggravated_felony()), INA,
                  "recorded as an aggravated felony"))  # fmt: skip
    tests += [("aggravated_felony", compiled(is_aggravated_felony_by(p)), p.citation,
               f"derived: {p.description}") for p in AGGRAVATED_FELONY_PARAGRAPHS]  # fmt: skip

    def classify(offense: Mapping[str, Any]) -> list[dict[str, str]]:
        return [
            {"category": name, "citation": citation, "why": why}
            for name, test, citation, why in tests
            if test({}, offense, {})
        ]

    return classify


def classify_offense(offense: Mapping[str, Any], params: Mapping[str, Any]) -> list[dict[str, str]]:
    """Categories of one offense record (flat offense fields), each with citation and why."""
    return offense_classifier(params)(offense)


def default_severity(code: str, params: Mapping[str, Any]) -> str:
    """The severity of a code's family when a record gives none (``offenses classify`` without
    ``--severity``): ``offenses.felony_by_default_ncic`` are felonies (a homicide code is never
    a misdemeanor), every other code a misdemeanor. Never used on a Case: the jurisdiction's own
    classification is required there."""
    return "felony" if code in params["offenses.felony_by_default_ncic"] else "misdemeanor"
