"""Policy parameters: facts with their source, and the interpretations we chose.

Every number, list or pattern a rule depends on is a parameter here — never a constant in a
rule. A parameter says where its value comes from (``citation``), why we chose it
(``rationale``), since when it holds (``effective``), and whether it is a fact of the source
or our interpretation of a non-quantitative source. A policy pack picks values; a user variant
(YAML) overrides them without touching the package.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any, Literal

from . import ncic

Kind = Literal["fact", "interpretation"]


@dataclass(frozen=True)
class Parameter:
    name: str
    value: Any
    effective: dt.date
    citation: str
    rationale: str
    kind: Kind = "interpretation"
    choices: tuple[str, ...] | None = None  # allowed members of a list-valued parameter

    def with_value(self, value: Any, **changes: Any) -> Parameter:
        return replace(self, value=value, **changes)


def _codes(*prefixes_or_codes: str, exclude: tuple[str, ...] = ()) -> tuple[str, ...]:
    """NCIC codes by 2-digit family prefix or exact 4-digit code, from the bundled table."""
    picked = set()
    for p in prefixes_or_codes:
        if len(p) == 4:
            if p not in ncic.NCIC_OFFENSES:
                raise ValueError(f"NCIC code {p} is not in the NCIC table")
            picked.add(p)
        else:
            picked.update(c for c in ncic.NCIC_OFFENSES if c.startswith(p))
    return tuple(sorted(picked - set(exclude)))


D = dt.date
INA = "INA 101(a)(43), 8 U.S.C. 1101(a)(43)"
MORTON_MARCH = "Morton memo, Civil Immigration Enforcement priorities, March 2, 2011"
# The two June 17, 2011 memos are different documents (report fn. 19): the general factors of
# prosecutorial discretion are in the first, the victim / witness / plaintiff protections in the
# second. The report discusses both in II.2 and the protections again in IV.2.
MORTON_JUNE = (
    "Morton memo, Exercising Prosecutorial Discretion Consistent with the Civil Immigration "
    "Enforcement Priorities of the Agency for the Apprehension, Detention, and Removal of Aliens, "
    "June 17, 2011 (report II.2)"
)
MORTON_JUNE_VICTIMS = (
    "Morton memo, Prosecutorial Discretion: Certain Victims, Witnesses, and Plaintiffs, "
    "June 17, 2011 (report IV.2)"
)
JOHNSON_PEP = "Johnson memo, Secure Communities, Nov. 20, 2014"
DEVISON = "Matter of Devison, 22 I&N Dec. 1362 (BIA 2000)"
JOHNSON = "Johnson memo, Policies for the Apprehension, Detention and Removal, Nov. 20, 2014"
TF = "HSAC Task Force on Secure Communities report (Sept. 2011)"

_DRUG_TRAFFICKING = (
    "3501", "3502", "3503", "3510", "3511", "3520", "3521", "3530", "3531", "3540", "3541",
    "3560", "3561", "3563", "3570", "3571", "3580", "3581",
)  # fmt: skip
_FIREARM = ("5201", "5202", "5203", "5210", "5212", "5213", "5214", "5217", "5299")
_FELONY_FAMILIES = _codes(
    "01", "09", "10", "11", "12", "1301", "1302", "1303", "1304", "1305", "1306", "1307", "1308",
    "1309", "1310", "1311", "1312", "1314", "1315", "20", "21", "22", "0303", "5003", "5004",
    "5217", "6300", "64", *_DRUG_TRAFFICKING, exclude=("2206",),
)
_UOC = "NCIC Uniform Offense Classification (code families)"
# 5499 and the catch-all "..99" code of every family (0999 HOMICIDE, 7399 PUBLIC ORDER ...)
_GENERIC = tuple(sorted({"5499", *(c for c in ncic.NCIC_OFFENSES if c.endswith("99"))}))
_SEXUAL_ABUSE = _codes(
    "11", "36", "64", exclude=("3602", "3603", "3606", "3607", "3608", "3609", "3610")
)

DEFAULTS: dict[str, Parameter] = {
    p.name: p
    for p in [
        # ---- offense classification (DESIGN 3.1)
        Parameter("offenses.minor_traffic_ncic", ("5499",), D(2011, 9, 30),
                  f"{TF} III rec. 1; {MORTON_MARCH} (report II.2)",
                  "NCIC 5499 TRAFFIC OFFENSE is the only generic traffic code; the named serious "
                  "traffic codes are excluded separately."),
        # v2: the code decides, the literal refines (only generic codes, never downwards)
        Parameter("offenses.generic_ncic", _GENERIC, D(2011, 9, 30), _UOC,
                  "Catch-all codes: 5499 TRAFFIC OFFENSE and every code ending in 99 (the "
                  "family's 'other'). Only on these does the booking literal refine the "
                  "category; a specific code decides alone (2206 'burglary tools' is not "
                  "traffic because its literal says 'equipment').", "fact"),
        Parameter("offenses.minor_refinable_ncic",
                  ("4199", "4899", "5399", "5499", "5799", "7399", "9999"), D(2011, 9, 30),
                  f"{_UOC}; {TF} III rec. 1 and Appendix A",
                  "Catch-all codes of the public-order families (liquor, obstructing police, "
                  "public peace, traffic, privacy/trespass, public order) and UNKNOWN: only here "
                  "may a literal make a charge minor traffic or a minor misdemeanor. A literal "
                  "never moves a charge of another family (0999 homicide, 1199 sex assault, "
                  "3599 dangerous drugs ...) to a less serious category than its code."),
        Parameter("offenses.minor_traffic_literal_pattern",
                  r"driv\w* without (a )?(valid )?licen|unlicensed driv|no (valid )?driver|"
                  r"suspended licen|speed|equipment|expired (registration|tag|plate)|"
                  r"fail\w* to (signal|yield|stop)|seat ?belt|tail ?light|window tint|"
                  r"red light|stop sign|illegal (turn|u-turn|parking)|no insurance",
                  D(2011, 9, 30), f"{TF} III rec. 1; {MORTON_MARCH} (driving without a license)",
                  "Booking literals name traffic offenses NCIC has no code for; applied only to "
                  "the codes of offenses.minor_refinable_ncic."),
        Parameter("offenses.serious_traffic_ncic", ("0909", "5401", "5403", "5404"), D(2011, 9, 30),
                  f"{TF} III rec. 1", "Hit-and-run, DUI (drugs, alcohol) and negligent vehicular "
                  "manslaughter are named as not minor.", "fact"),
        Parameter("offenses.serious_traffic_literal_pattern",
                  r"\bflee|\bfled\b|elud|evad\w* (the )?(police|officer|arrest)|"
                  r"hit[- ]?(and|&)[- ]?run|leav\w* (the )?scene|"
                  r"fail\w* to (stop|remain) (at|and) (the )?scene|"
                  r"vehicular (homicide|manslaughter|assault)",
                  D(2011, 9, 30), f"{TF} III rec. 1",
                  "Hit-and-run ('leaving the scene', 'failure to stop at scene of accident') and "
                  "fleeing or eluding police 'have the potential of causing serious injury or "
                  "harm'; on a generic code (offenses.generic_ncic) the literal makes the charge "
                  "serious traffic."),
        Parameter("offenses.dui_literal_pattern",
                  r"\bdui\b|\bduid\b|\bdwi\b|\bdwai\b|\bowi\b|\bovi\b|drunk(en)? driv|"
                  r"driv\w* (while )?under (the )?influence|"
                  r"driv\w* while (intoxicated|impaired|ability impaired|"
                  r"drunk)|operat\w* (a )?(motor )?vehicle while (intoxicated|impaired)",
                  D(2011, 9, 30), f"{TF} III rec. 1; {JOHNSON} 2(b)",
                  "Driving under the influence or impaired (DUI, DWI, DWAI, DUID, OVI, OWI, "
                  "'drunk driving', 'driving under influence') booked under a generic code: "
                  "serious traffic (III rec. 1 names DUI) and, as a misdemeanor, a significant "
                  "misdemeanor (Johnson 2(b) names DUI)."),
        Parameter("offenses.traffic_ncic_family", ("54",), D(2011, 9, 30), "NCIC UOC 54xx",
                  "Family used for 'reckless driving with injury': a traffic code with injury.",
                  "fact"),
        Parameter("offenses.minor_misdemeanor_ncic", ("4104", "4813", "5311", "5707"),
                  D(2011, 9, 30), f"{TF} III rec. 1 and fn. 21; Appendix A (loitering)",
                  "Public-order offenses: liquor possession / public intoxication, failure to "
                  "move on, disorderly conduct, trespassing."),
        Parameter("offenses.minor_misdemeanor_literal_pattern",
                  r"loiter|vagran|curfew|litter|panhandl|begging|public (intox|drunk)|"
                  r"open container|disorderly|trespass|fail\w* to (move on|disperse)|jaywalk",
                  D(2011, 9, 30), f"{TF} III rec. 1, fn. 21 and Appendix A",
                  "Loitering is the tasking's own example; the list is our interpretation. "
                  "Applied only to the codes of offenses.minor_refinable_ncic."),
        Parameter("offenses.significant_misdemeanor_sexual_ncic", _SEXUAL_ABUSE, D(2014, 11, 20),
                  f"{JOHNSON} 2(b)", "Sexual abuse or exploitation: NCIC 11xx, 36xx, 64xx less "
                  "consensual-adult codes."),
        Parameter("offenses.burglary_ncic", _codes("22"), D(2014, 11, 20), "NCIC UOC 22xx",
                  "Burglary family.", "fact"),
        Parameter("offenses.firearm_ncic", _FIREARM, D(2014, 11, 20),
                  f"{JOHNSON} 2(b); INA 237(a)(2)(C)", "Unlawful firearm possession or use."),
        Parameter("offenses.drug_trafficking_ncic", _DRUG_TRAFFICKING, D(2014, 11, 20),
                  f"{JOHNSON} 2(b); {INA}(B)", "NCIC 35xx codes for sale, smuggling, "
                  "manufacture, distribution or production."),
        Parameter("offenses.dui_ncic", ("5403", "5404"), D(2014, 11, 20), f"{JOHNSON} 2(b)",
                  "DUI, drugs and alcohol.", "fact"),
        Parameter("offenses.significant_misdemeanor_sentence_days", 90, D(2014, 11, 20),
                  f"{JOHNSON} 2(b)", "Custodial sentence of 90 days or more, suspended "
                  "sentences excluded.", "fact"),
        Parameter("offenses.immigration_status_offense_ncic", ("0301", "0399"), D(2014, 11, 20),
                  f"{JOHNSON} 1(d), 2(a)", "Offenses whose essential element is immigration "
                  "status: illegal entry, generic immigration."),
        Parameter("offenses.federal_immigration_offense_ncic", ("0301",), D(2014, 11, 20),
                  f"{JOHNSON} 1(d); 8 U.S.C. 1325, 1326; Arizona v. United States, 567 U.S. 387 "
                  "(2012)",
                  "Illegal entry and illegal re-entry are federal crimes (8 U.S.C. 1325, 1326) "
                  "that no state or local law may punish, so a conviction under 0301 is "
                  "federal: Johnson 1(d) excludes only state or local status offenses."),
        Parameter("offenses.federal_offense_literal_pattern",
                  r"\b8 ?u\.? ?s\.? ?c|\busc\b|\bfederal\b|re-?entry|re-?enter|"
                  r"reentr|after (removal|deportation)",
                  D(2014, 11, 20), f"{JOHNSON} 1(d); 8 U.S.C. 1326",
                  "A status offense whose literal names the federal code or re-entry after "
                  "removal (8 U.S.C. 1326) is a federal offense, not a state or local one."),
        Parameter("offenses.controlled_substance_ncic", _codes("35"), D(1996, 9, 30),
                  "INA 237(a)(2)(B)(i)", "Controlled-substance family.", "fact"),
        Parameter("offenses.simple_marijuana_possession_ncic", ("3562",), D(1996, 9, 30),
                  "INA 237(a)(2)(B)(i)", "The single-possession exception (30 g or less; the "
                  "amount is not recorded, so any single 3562 conviction)."),
        Parameter("offenses.domestic_violence_ncic",
                  ("1301", "1302", "1303", "1316", "3802", "3803", "3806", "3809"),
                  D(1996, 9, 30), "INA 237(a)(2)(E)",
                  "Family assault, stalking/intimidation, child and spousal cruelty or neglect."),
        Parameter("offenses.moral_turpitude_ncic",
                  _codes("0901", "0902", "0903", "0904", "0905", "0906", "0907", "0908", "0911",
                         "0912", "10", "11", "12", "20", "21", "22", "23", "25", "26", "27",
                         "2801", "2802", "2803", "5003", "5004", "5101", "5102", "5103", "5104"),
                  D(1996, 9, 30), "INA 237(a)(2)(A)(ii)",
                  "Crimes involving moral turpitude approximated by family: violence, theft, "
                  "fraud, burglary, robbery, forgery, perjury, bribery."),
        Parameter("offenses.felony_by_default_ncic", _FELONY_FAMILIES, D(2011, 9, 30),
                  f"{_UOC}; {INA}",
                  "Only when a record gives no severity (securecomm offenses classify without "
                  "--severity): codes of the families state codes class as felonies (sovereignty, "
                  "homicide, kidnapping, rape and sexual assault, robbery, aggravated assault, "
                  "arson, extortion, burglary, drug trafficking, weapon trafficking, money "
                  "laundering, child exploitation, alien smuggling, perjury); any other code is "
                  "a misdemeanor. The jurisdiction's own classification always wins."),
        # ---- aggravated felony derivation (INA 101(a)(43)); sentence counts even if suspended
        Parameter("aggravated_felony.min_sentence_days", 365, D(1996, 9, 30),
                  f"{INA}(F),(G),(R),(S); INA 101(a)(48)(B)",
                  "'Term of imprisonment at least one year'; INA 101(a)(48)(B) counts "
                  "suspended sentences.", "fact"),
        Parameter("aggravated_felony.A_ncic",
                  ("0901", "0902", "0903", "0904", "0905", "0906", "0907", "0908", "0911", "0912",
                   "1101", "1102", "1103", "1104", "1106", "1108", "1110", "1112", "1114", "1116",
                   "1118", "1119", "1122", "1198", "1003", "3601", "3604", "3616", "3618"),
                  D(1996, 9, 30), f"{INA}(A)", "Murder, rape, sexual abuse of a minor."),
        Parameter("aggravated_felony.B_ncic", _DRUG_TRAFFICKING, D(1996, 9, 30), f"{INA}(B)",
                  "Illicit trafficking in a controlled substance."),
        Parameter("aggravated_felony.C_ncic", ("5214", "5217"), D(1996, 9, 30), f"{INA}(C)",
                  "Illicit trafficking in firearms: selling weapons, weapon trafficking."),
        Parameter("aggravated_felony.E_ncic", ("2904", "2905", "2906", "5206", "5208"),
                  D(1996, 9, 30), f"{INA}(E)", "Explosive-materials offenses (18 U.S.C. 844): "
                  "damage with explosives, using explosives or incendiary devices."),
        Parameter("aggravated_felony.D_ncic", ("6300",), D(1996, 9, 30), f"{INA}(D)",
                  "Money laundering; the $10,000 threshold is not recorded, so every "
                  "money-laundering conviction is taken as over it."),
        Parameter("aggravated_felony.F_ncic",
                  _codes("09", "10", "11", "12", "13", "16", "20", "2101", exclude=("0909", "0913", "0999", "1313")),
                  D(1996, 9, 30), f"{INA}(F); 18 U.S.C. 16",
                  "Crime of violence: homicide, kidnapping, sexual assault, robbery, aggravated "
                  "assault, threats, arson, extortion by threat of injury."),
        Parameter("aggravated_felony.G_ncic", _codes("22", "23", "24", "28"), D(1996, 9, 30),
                  f"{INA}(G)", "Theft (incl. receipt of stolen property) or burglary."),
        Parameter("aggravated_felony.H_ncic", ("1001", "1002"), D(1996, 9, 30), f"{INA}(H)",
                  "Kidnapping for ransom.", "fact"),
        Parameter("aggravated_felony.I_ncic", ("6401", "6402", "6403", "6404", "6405"),
                  D(1996, 9, 30), f"{INA}(I)", "Child pornography (sexual exploitation material)."),
        Parameter("aggravated_felony.K_ncic", ("4001", "4002", "4006", "4007", "4008", "4009"),
                  D(1996, 9, 30), f"{INA}(K)", "Managing a prostitution business; transport "
                  "for prostitution."),
        Parameter("aggravated_felony.N_ncic", ("0303",), D(1996, 9, 30), f"{INA}(N)",
                  "Alien smuggling.", "fact"),
        Parameter("aggravated_felony.R_ncic", _codes("25"), D(1996, 9, 30), f"{INA}(R)",
                  "Forgery or counterfeiting."),
        Parameter("aggravated_felony.S_ncic", ("4802", "4804", "4805", "4806", "5003", "5004", "5006"),
                  D(1996, 9, 30), f"{INA}(S)", "Obstruction of justice, perjury, subornation, "
                  "witness bribery or tampering."),
        # ---- convictions, levels, priorities
        Parameter("convictions.count_current_charge_convictions", True, D(2011, 9, 30),
                  f"{TF} III rec. 1 ('post-conviction model')",
                  "A current charge disposed as convicted is a conviction."),
        Parameter("levels.count_minor_traffic", True, D(2011, 3, 2), f"{MORTON_MARCH}; {TF} II.2",
                  "Status-quo practice counted minor traffic misdemeanors toward Level 3."),
        Parameter("priorities.recent_entry_years", 3, D(2011, 3, 2), f"{MORTON_MARCH}, Priority 2",
                  "The memo says 'recent'; three years follows ICE practice of the period."),
        Parameter("priorities.gang_min_age", 16, D(2011, 3, 2), f"{MORTON_MARCH} 1(c); {JOHNSON} 1(c)",
                  "Gang participants aged 16 and older.", "fact"),
        Parameter("pep.continuous_presence_since", D(2014, 1, 1), D(2014, 11, 20),
                  f"{JOHNSON} 2(c), 3", "Cut-off date for continuous presence and final orders.",
                  "fact"),
        Parameter("pep.misdemeanor_incidents", 3, D(2014, 11, 20), f"{JOHNSON} 2(a)",
                  "Three or more misdemeanors from three separate incidents.", "fact"),
        # ---- protections and discretion
        Parameter("discretion.long_time_lpr_years", 10, D(2011, 6, 17), f"{MORTON_JUNE}",
                  "'Long-time lawful permanent resident' is not quantified; ten years."),
        Parameter("discretion.minor_age", 18, D(2011, 6, 17), MORTON_JUNE, "Minors: under 18.",
                  "fact"),
        Parameter("discretion.elderly_age", 65, D(2011, 6, 17), MORTON_JUNE,
                  "'Elderly' is not quantified; 65."),
        Parameter("discretion.childhood_entry_age", 16, D(2011, 6, 17), MORTON_JUNE,
                  "'Present since childhood': entered before 16 (the DREAM Act line)."),
        Parameter("discretion.repeat_offender_incidents", 2, D(2011, 6, 17), MORTON_JUNE,
                  "'Repeat offender': convictions from two or more incidents."),
        Parameter("discretion.repeat_reentry_removals", 2, D(2011, 6, 17), MORTON_JUNE,
                  "'Egregious immigration violator': fraud or two or more prior removals."),
        # ---- tfsc-2011-strict
        Parameter("strict.public_safety_risk_categories",
                  ("serious_traffic", "significant_misdemeanor"),
                  D(2011, 9, 30), f"{TF} III rec. 1 (minority view)",
                  "Our test of 'poses a public safety or national security risk' for a "
                  "misdemeanor charge: any of these offense categories (serious traffic; "
                  "significant misdemeanor per Johnson 2(b)). Allowed: serious_traffic, "
                  "significant_misdemeanor, domestic_violence, firearm.",
                  choices=("serious_traffic", "significant_misdemeanor", "domestic_violence", "firearm")),
        # ---- detainer clock
        Parameter("detainer.hold_hours", 48, D(1997, 3, 6), "8 CFR 287.7(d); report fn. 7",
                  "48 hours.", "fact"),
        Parameter("detainer.exclude_non_business_days", True, D(1997, 3, 6),
                  "8 CFR 287.7(d); report fn. 7",
                  "'Excluding Saturdays, Sundays, and holidays'.", "fact"),
    ]
}  # fmt: skip
