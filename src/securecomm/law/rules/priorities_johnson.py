"""Enforcement priorities, Johnson memo of November 20, 2014 (PEP; DESIGN 3.4)."""

from __future__ import annotations

from .. import offenses as off
from ..expr import Col, CountDistinct, Item, Param, Var, any_of
from ..model import Rule
from ..parameters import JOHNSON
from .common import convictions_where, counted_conviction

_misdemeanor_incidents = CountDistinct(
    "convictions",
    Item("incident_key"),
    counted_conviction()
    & off.is_misdemeanor()
    & ~off.is_minor_traffic()
    & ~off.is_status_offense(),
)

_gang_conviction = convictions_where(Item("gang_element").eq(True)).ge(1)

BASES = {
    "1(a)": ("1", Col("flag_national_security"), "Engaged in or suspected of terrorism or espionage, or a danger to national security."),
    "1(b)": ("1", Col("flag_apprehended_at_border"), "Apprehended at the border while attempting to enter unlawfully."),
    "1(c)": ("1", any_of(_gang_conviction, Var("gang_participant_of_age")),
             "Convicted of an offense with a gang element, or an intentional gang participant aged 16 or older."),
    "1(d)": ("1", convictions_where(off.is_felony() & ~off.is_state_or_local_status_offense()).ge(1),
             "Convicted of a felony, other than a state or local offense whose essential element is immigration status."),
    "1(e)": ("1", Var("n_aggravated_felonies").ge(1), "Convicted of an aggravated felony."),
    "2(a)": ("2", _misdemeanor_incidents.ge(Param("pep.misdemeanor_incidents")),
             "Convicted of three or more misdemeanors from separate incidents (minor traffic and status offenses excluded)."),
    "2(b)": ("2", convictions_where(off.is_significant_misdemeanor()).ge(1), "Convicted of a significant misdemeanor."),
    # v2: presence on January 1, 2014 is continuous presence since that date
    "2(c)": ("2", Var("entered_unlawfully") & Col("person_entered_us_on").gt(Param("pep.continuous_presence_since")),
             "Entered unlawfully after January 1, 2014 (not continuously present since that date)."),
    "2(d)": ("2", Col("person_visa_abuse"), "Significantly abused the visa or visa-waiver programs."),
    "3": ("3", Col("person_final_order_on").ge(Param("pep.continuous_presence_since")),
          "Issued a final order of removal on or after January 1, 2014."),
}  # fmt: skip

PEP_TRANSFER_BASES = ("1(a)", "1(c)", "1(d)", "1(e)", "2(a)", "2(b)")

# v2: PEP transfers 1(c) only on a conviction with a gang element: the Secure Communities memo
# names those "convicted of an offense listed in" 1(a), (c), (d), (e), 2(a), (b). An uncharged
# gang participant is still reported as 1(c), but is not a transfer priority.
TRANSFER_CONDITIONS = {label: BASES[label][1] for label in PEP_TRANSFER_BASES} | {
    "1(c)": _gang_conviction
}

VARIABLES = {
    "pep_transfer_priority": any_of(*(TRANSFER_CONDITIONS[label] for label in PEP_TRANSFER_BASES)),
}

# v2: priorities are for removable non-citizens only (a citizen has no priority and no bases).
RULES = tuple(
    Rule(f"priorities.johnson.{label}", "priority", Var("removable") & cond,
         f"{JOHNSON}, Priority {label}", text, label=label, priority=priority)
    for label, (priority, cond, text) in BASES.items()
)  # fmt: skip
