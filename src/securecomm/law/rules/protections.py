"""Victims, witnesses and plaintiffs (Morton memo June 17, 2011; report IV.2; DESIGN 3.5)."""

from __future__ import annotations

from ..expr import Col, Var, any_of
from ..model import Rule
from ..parameters import MORTON_JUNE_VICTIMS, TF

VARIABLES = {
    "protected": any_of(
        Col("flag_crime_victim"),
        Col("flag_crime_witness"),
        Col("flag_domestic_violence_victim"),
        Col("flag_civil_rights_plaintiff"),
        Col("person_relief_u_visa"),
        Col("person_relief_t_visa"),
        Col("person_relief_vawa"),
    ),
    "aggravating": any_of(
        Col("flag_national_security"),
        Col("flag_gang_member"),
        Var("level").eq(1),
        Col("flag_serious_public_safety_risk"),
    ),
}

RULES = (
    Rule("protections.protected-person", "finding", Var("protected"), f"{MORTON_JUNE_VICTIMS}; {TF} IV rec. 2",
         "A crime victim, witness, domestic-violence victim, civil-rights plaintiff, or applicant for "
         "U visa, T visa or VAWA relief."),
    Rule("protections.aggravating", "finding", Var("protected") & Var("aggravating"), MORTON_JUNE_VICTIMS,
         "Protected, but with an aggravating factor (national security, gang, Level 1 or serious "
         "public-safety risk)."),
)  # fmt: skip
