"""Enforcement priorities, Morton memo of March 2, 2011 (DESIGN 3.4)."""

from __future__ import annotations

from ..expr import Col, Param, Var, any_of
from ..model import Rule
from ..parameters import MORTON_MARCH

M = MORTON_MARCH


def _bases(level_var: str) -> dict[str, tuple[str, object, str]]:
    """label -> (priority, condition, text). ``level_var`` selects how levels count."""
    return {
        "1(a)": ("1", Col("flag_national_security"), "Poses a danger to national security."),
        "1(b)": ("1", ~Var(level_var).is_null(), "Convicted of a criminal offense (Level 1, 2 or 3)."),
        "1(c)": ("1", Var("gang_participant_of_age"), "Gang participant aged 16 or older."),
        "1(d)": ("1", Col("flag_outstanding_criminal_warrant"), "Outstanding criminal warrant."),
        "1(e)": ("1", Col("flag_serious_public_safety_risk"), "Otherwise poses a serious risk to public safety."),
        "2(a)": ("2", Var("entered_unlawfully") & Var("years_since_entry").lt(Param("priorities.recent_entry_years")),
                 "Recent illegal entrant."),
        "2(b)": ("2", Col("person_visa_abuse"), "Knowingly abused the visa or visa-waiver programs."),
        "3(a)": ("3", Var("has_final_order"), "Fugitive: a final order of removal, not departed."),
        "3(b)": ("3", Col("person_removal_count").ge(1), "Re-entered after removal."),
        "3(c)": ("3", Col("person_immigration_fraud"), "Obtained status or admission by fraud."),
    }  # fmt: skip


VARIABLES = {
    # "higher category" of the Task Force packs: any Morton basis, minor traffic not counted
    "higher_category": any_of(
        *(cond for _, cond, _ in _bases("level_excl_minor_traffic").values())
    ),
    # any basis, levels as the pack counts them (the pack's priority-detainer rule)
    "morton_priority": any_of(*(cond for _, cond, _ in _bases("level").values())),
}

# v2: priorities are for removable non-citizens; a citizen or a non-removable resident has none,
# whatever the record shows (the memo sets priorities "for the apprehension, detention, and
# removal of aliens").
RULES = tuple(
    Rule(f"priorities.morton.{label}", "priority", Var("removable") & cond,
         f"{M}, Priority {label}", text, label=label, priority=priority)
    for label, (priority, cond, text) in _bases("level").items()
)  # fmt: skip
