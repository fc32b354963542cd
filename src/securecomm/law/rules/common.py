"""Variables every pack shares: ages, conviction counts, citizenship tests.

Variables reference parameters, never constants, so a variant changes them by parameter.
"""

from __future__ import annotations

from .. import offenses as off
from ..expr import Col, Count, Expr, Item, Param, Var, any_of, count, years_between

decided_on = Col("decided_on")
status = Col("person_citizenship_status")


def counted_conviction() -> Expr:
    """A conviction record that counts: recorded convictions, plus current charges disposed
    as convicted when ``convictions.count_current_charge_convictions`` holds — never a juvenile
    adjudication, which is not a conviction for levels, priorities or removability (Matter of
    Devison, 22 I&N Dec. 1362 (BIA 2000)). ``eq(True)``: a caseload without the field (null)
    counts the record, as before v2."""
    return (
        ~Item("from_current_charge") | Param("convictions.count_current_charge_convictions")
    ) & ~Item("juvenile_adjudication").eq(True)


def convictions_where(where: Expr) -> Expr:
    return Count("convictions", counted_conviction() & where)


VARIABLES: dict[str, Expr] = {
    "age": years_between(Col("person_birth_date"), decided_on),
    "age_at_entry": years_between(Col("person_birth_date"), Col("person_entered_us_on")),
    "years_since_entry": years_between(Col("person_entered_us_on"), decided_on),
    "years_as_lpr": years_between(Col("person_lpr_since"), decided_on),
    "is_citizen": status.isin(("us_citizen_by_birth", "naturalized_citizen")),
    "entered_unlawfully": any_of(
        Col("person_entry").eq("without_inspection"), status.eq("entered_without_inspection")
    ),
    "n_charges": count("charges"),
    "n_aggravated_felonies": convictions_where(off.is_aggravated_felony()),
    "n_felonies": convictions_where(off.is_felony()),
    "n_misdemeanors_for_level": convictions_where(
        off.is_misdemeanor() & (Param("levels.count_minor_traffic") | ~off.is_minor_traffic())
    ),
    "n_misdemeanors_excl_minor_traffic": convictions_where(
        off.is_misdemeanor() & ~off.is_minor_traffic()
    ),
    "gang_participant_of_age": Col("flag_gang_member").eq(True)
    & Var("age").ge(Param("priorities.gang_min_age")),
}
