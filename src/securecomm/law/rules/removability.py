"""Removability, simplified (INA 212 and 237; DESIGN 3.2)."""

from __future__ import annotations

from .. import offenses as off
from ..expr import Col, CountDistinct, Item, Var, all_of, any_of
from ..model import Rule
from .common import convictions_where, counted_conviction, status

LAWFUL_STATUSES = ("lawful_permanent_resident", "nonimmigrant_visa", "refugee_asylee", "parolee")

_controlled_substance_other_than_single_marijuana = any_of(
    convictions_where(off.is_controlled_substance() & ~off.is_simple_marijuana_possession()).ge(1),
    convictions_where(off.is_simple_marijuana_possession()).ge(2),
)
_two_cimt = CountDistinct(
    "convictions", Item("incident_key"), counted_conviction() & off.is_moral_turpitude()
).ge(2)

GROUNDS = {
    "removability.ground.aggravated-felony": (
        Var("n_aggravated_felonies").ge(1),
        "INA 237(a)(2)(A)(iii)",
        "Convicted of an aggravated felony: a deportable offense.",
    ),
    "removability.ground.controlled-substance": (
        _controlled_substance_other_than_single_marijuana,
        "INA 237(a)(2)(B)(i)",
        "Convicted of a controlled-substance offense other than a single marijuana possession.",
    ),
    "removability.ground.firearm": (
        convictions_where(off.is_firearm()).ge(1),
        "INA 237(a)(2)(C)",
        "Convicted of a firearm offense.",
    ),
    "removability.ground.domestic-violence": (
        convictions_where(off.is_domestic_violence()).ge(1),
        "INA 237(a)(2)(E)",
        "Convicted of domestic violence, stalking or child abuse.",
    ),
    "removability.ground.two-cimt": (
        _two_cimt,
        "INA 237(a)(2)(A)(ii)",
        "Convicted of two or more crimes involving moral turpitude from separate incidents.",
    ),
}

VARIABLES = {
    "deportable_conviction": any_of(*(cond for cond, _, _ in GROUNDS.values())),
    "has_final_order": ~Col("person_final_order_on").is_null(),
    "status_unknown": status.eq("unknown"),
    "removable": all_of(
        ~Var("is_citizen"),
        ~status.eq("unknown"),
        any_of(
            status.isin(("entered_without_inspection", "visa_overstay")),
            Var("has_final_order"),
            status.isin(LAWFUL_STATUSES) & Var("deportable_conviction"),
        ),
    ),
}

RULES = (
    Rule("removability.citizen", "finding", Var("is_citizen"), "INA 101(a)(22); 8 U.S.C. 1401, 1427",
         "A United States citizen (by birth or naturalization) is never removable."),
    Rule("removability.status-unknown", "finding", Var("status_unknown"),
         "HSAC Task Force on Secure Communities report (Sept. 2011) I.1",
         "Immigration status is not determined: no enforcement action without probable cause."),
    Rule("removability.unlawful-presence", "finding",
         status.isin(("entered_without_inspection", "visa_overstay")), "INA 212(a)(6)(A); 237(a)(1)(B)",
         "Entered without inspection or overstayed a visa: removable."),
    Rule("removability.final-order", "finding", ~Var("is_citizen") & ~Var("status_unknown") & Var("has_final_order"),
         "INA 241(a)", "A final order of removal has not been executed: removable."),
    *(
        Rule(rule_id, "finding", status.isin(LAWFUL_STATUSES) & cond, citation, text)
        for rule_id, (cond, citation, text) in GROUNDS.items()
    ),
    Rule("removability.lawful-status-no-ground", "finding",
         status.isin(LAWFUL_STATUSES) & ~Var("deportable_conviction") & ~Var("has_final_order"),
         "INA 237(a)(2)",
         "Lawful status and no deportable conviction: not removable."),
)  # fmt: skip
