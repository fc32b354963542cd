"""Discretion factors: listed for the officer, never decided automatically (DESIGN 3.7)."""

from __future__ import annotations

from .. import offenses as off
from ..expr import Col, Count, CountDistinct, Item, Param, Var, any_of, every
from ..model import Rule
from ..parameters import DEVISON, MORTON_JUNE, MORTON_JUNE_VICTIMS, MORTON_MARCH, TF
from .common import convictions_where, counted_conviction

_incidents = CountDistinct("convictions", Item("incident_key"), counted_conviction())

POSITIVE = {
    "veteran_or_armed_forces": (Col("flag_veteran_or_armed_forces"), MORTON_JUNE, "Veteran or member of the US armed forces."),
    "armed_forces_family": (Col("flag_armed_forces_family"), MORTON_JUNE, "Close family member of a member of the armed forces."),
    "long_time_lpr": (Col("person_citizenship_status").eq("lawful_permanent_resident")
                      & Var("years_as_lpr").ge(Param("discretion.long_time_lpr_years")), MORTON_JUNE,
                      "Long-time lawful permanent resident."),
    "minor": (Var("age").lt(Param("discretion.minor_age")), MORTON_JUNE, "A minor."),
    "elderly": (Var("age").ge(Param("discretion.elderly_age")), MORTON_JUNE, "Elderly."),
    "present_since_childhood": (Var("age_at_entry").lt(Param("discretion.childhood_entry_age")), MORTON_JUNE,
                                "Present in the United States since childhood."),
    "us_citizen_or_lpr_family": (Col("flag_us_citizen_or_lpr_family"), MORTON_JUNE,
                                 "Has a US-citizen or permanent-resident spouse, child or parent."),
    "primary_caretaker": (Col("flag_primary_caretaker"), MORTON_JUNE, "Primary caretaker of a child or an infirm person."),
    "pregnant_or_nursing": (Col("flag_pregnant_or_nursing"), MORTON_JUNE, "Pregnant or nursing."),
    "serious_health_condition": (Col("flag_serious_health_condition"), MORTON_JUNE, "Suffers from a serious health condition."),
    "in_school_or_graduate": (Col("flag_in_school_or_graduate"), MORTON_JUNE, "In school or a graduate of a US school."),
    "victim_witness_or_plaintiff": (Var("protected"), MORTON_JUNE_VICTIMS, "A victim, witness or plaintiff in a civil-rights case."),
    "indigent_uncounseled_plea": (Col("flag_indigent") & convictions_where(Item("counsel").eq("none")).ge(1),
                                  f"{TF} II rec. 2", "Indigent and convicted on a plea without counsel."),
    "minor_traffic_arrest": (every("charges", off.is_minor_traffic()), f"{MORTON_MARCH} (report II.2); {TF} III rec. 1",
                             "Arrested only for minor traffic offenses: exercise particular discretion."),
}  # fmt: skip

NEGATIVE = {
    "national_security": (Col("flag_national_security"), MORTON_JUNE, "A national-security concern."),
    "serious_felon": (Var("level").eq(1), MORTON_JUNE, "A serious felon (Level 1)."),
    "repeat_offender": (_incidents.ge(Param("discretion.repeat_offender_incidents")), MORTON_JUNE,
                        "A repeat offender: convictions from several incidents."),
    "gang_member": (any_of(Col("flag_gang_member"), convictions_where(Item("gang_element").eq(True)).ge(1)),
                    MORTON_JUNE, "A gang member."),
    "egregious_immigration_violator": (any_of(Col("person_immigration_fraud"),
                                              Col("person_removal_count").ge(Param("discretion.repeat_reentry_removals"))),
                                       MORTON_JUNE, "An egregious immigration violator (fraud or repeated re-entry)."),
    # v2: not a conviction (never counted), but the conduct may be weighed by the officer
    "juvenile_adjudication": (Count("convictions", Item("juvenile_adjudication").eq(True)).ge(1),
                              f"{DEVISON}; {MORTON_JUNE}",
                              "Has a juvenile adjudication: not a conviction, listed only for the officer's judgement."),
}  # fmt: skip

RULES = (
    *(Rule(f"discretion.positive.{k}", "factor", c, cit, t, polarity="positive") for k, (c, cit, t) in POSITIVE.items()),
    *(Rule(f"discretion.negative.{k}", "factor", c, cit, t, polarity="negative") for k, (c, cit, t) in NEGATIVE.items()),
)  # fmt: skip
