"""Action rules of each pack, with explicit precedence (DESIGN 3.6, specification v2).

Ranks, highest first, in every pack: 100 not removable or status unknown -> no_action;
90 protected and not aggravating -> no_detainer; 85..50 the pack's own rules in the order
listed; 0 the pack's base rule. The highest applicable rank decides; lower applicable rules are
still reported. Two applicable rules of one rank with different outcomes, or none at all, is an
error (engine.PolicyConflict / engine.NoApplicableRule).

Each rule that withholds or softens enforcement carries its ``safeguard`` (an officer's
override to a more severe action removes it, so a supervisor must approve, report IV rec. 2)
and, for ``no_detainer``, its ``decline_reason`` (the statistics' category). The field office
and the statistics read them from the decision (``Decision.decisive_rule``), never from a table
of rule ids, so a user variant that keeps or replaces a rule keeps them.
"""

from __future__ import annotations

from .. import offenses as off
from ..expr import TRUE, Col, Expr, Item, Lit, Param, Var, any_of, every, exists
from ..model import Rule
from ..parameters import JOHNSON, JOHNSON_PEP, MORTON_JUNE_VICTIMS, MORTON_MARCH, TF

RANK_NOT_REMOVABLE = 100
RANK_PROTECTED = 90
RANK_NATIONAL_SECURITY = 85
RANK_PACK_FIRST = 80
RANK_PACK_SECOND = 70
RANK_PRIORITY = 60
RANK_BASE = 0

#: The actions that hold someone or ask to be told of a release: the only ones a supervisor
#: approves for a protected person (IV rec. 2) and the only ones never lodged on a citizen.
HOLDING_ACTIONS = ("detainer", "conditional_detainer", "notification_request")

COMMON = (
    Rule("actions.not-removable", "action", ~Var("removable") & ~Var("status_unknown"),
         "INA 212(a), 237(a) (8 U.S.C. 1182, 1227); INA 101(a)(22)",
         "Not removable (a citizen, or lawful status with no deportable conviction): no "
         "immigration enforcement action.",
         outcome="no_action", rank=RANK_NOT_REMOVABLE,
         safeguard="not removable: no immigration enforcement action (INA 212, 237)"),
    Rule("actions.status-unknown", "action", Var("status_unknown"), f"{TF} I.1",
         "Status not determined: no action until it is.", outcome="no_action",
         rank=RANK_NOT_REMOVABLE,
         safeguard="immigration status not determined: no action until it is (report I.1)"),
    Rule("actions.protected-not-aggravating", "action", Var("protected") & ~Var("aggravating"),
         f"{MORTON_JUNE_VICTIMS}; {TF} IV rec. 2",
         "Protected victim, witness or plaintiff with no aggravating factor: no detainer.",
         outcome="no_detainer", rank=RANK_PROTECTED,
         safeguard="protected victim, witness or plaintiff (report IV.2)",
         decline_reason="protected_person"),
)  # fmt: skip

# The Morton-family packs say why a removable person is detained: a national-security concern
# first (the decisive reason of such a detainer is the priority, report III rec. 1 "poses a
# national security ... risk"), then any other priority, and only then the status-quo practice
# of detaining everyone else (report II.1).
MORTON_NATIONAL_SECURITY = Rule(
    "actions.morton.national-security-detainer", "action", Col("flag_national_security"),
    f"{MORTON_MARCH}, Priority 1(a); {TF} III rec. 1",
    "Removable and a danger to national security (Priority 1(a)): detainer.",
    outcome="detainer", rank=RANK_NATIONAL_SECURITY,
)  # fmt: skip

MORTON_PRIORITY = Rule(
    "actions.morton.priority-detainer", "action", Var("morton_priority"),
    f"{MORTON_MARCH}, Priorities 1-3",
    "Removable and in an enforcement priority of the March 2, 2011 memo: detainer.",
    outcome="detainer", rank=RANK_PRIORITY,
)  # fmt: skip

MORTON_BASE = Rule(
    "actions.morton.removable-detainer", "action", TRUE, f"{TF} II.1 (status-quo practice)",
    "Removable, in no priority category: detainer (status-quo practice detained non-priority "
    "cases too).",
    outcome="detainer", rank=RANK_BASE,
)  # fmt: skip

TFSC_MINOR_TRAFFIC = Rule(
    "actions.tfsc.minor-traffic-only", "action",
    every("charges", off.is_minor_traffic()) & ~Var("higher_category"), f"{TF} III rec. 1",
    "Arrested only for minor traffic offenses and in no higher priority category: no detainer.",
    outcome="no_detainer", rank=RANK_PACK_FIRST,
    safeguard="no detainers on minor traffic offenses (report III rec. 1)",
    decline_reason="minor_traffic",
)  # fmt: skip

TFSC_CONDITIONAL = Rule(
    "actions.tfsc.minor-misdemeanor-conditional", "action",
    every("charges", off.is_minor_traffic() | off.is_minor_misdemeanor())
    & exists("charges", off.is_minor_misdemeanor() & Item("disposition").eq("pending"))
    & ~Var("higher_category"),
    f"{TF} III rec. 1 (post-conviction model)",
    "Arrested only for minor offenses, a minor misdemeanor pending, no higher category: "
    "conditional detainer, operative only on conviction.",
    outcome="conditional_detainer", rank=RANK_PACK_SECOND,
    safeguard="post-conviction detainers only for minor misdemeanors (report III rec. 1)",
)  # fmt: skip

# v2: the conditional detainer "would become fully operational only if the person is actually
# convicted" — a minor misdemeanor already dismissed or acquitted leaves nothing to condition on.
# Exclusive with the conditional rule (that one needs a pending minor misdemeanor), so one rank.
TFSC_NOTHING_TO_CONDITION_ON = Rule(
    "actions.tfsc.minor-misdemeanor-disposed", "action",
    every("charges", off.is_minor_traffic()
          | (off.is_minor_misdemeanor() & Item("disposition").isin(("dismissed", "acquitted"))))
    & exists("charges", off.is_minor_misdemeanor())
    & ~Var("higher_category"),
    f"{TF} III rec. 1 (post-conviction model)",
    "Arrested only for minor offenses, every minor misdemeanor dismissed or acquitted, no higher "
    "category: nothing to condition a detainer on, no detainer.",
    outcome="no_detainer", rank=RANK_PACK_SECOND,
    safeguard="a conditional detainer needs a conviction; the minor misdemeanor was dismissed "
    "or acquitted (report III rec. 1)",
    decline_reason="minor_misdemeanor",
)  # fmt: skip


def public_safety_risk() -> Expr:
    """The strict view's test of 'poses a public safety risk' for one charge (a parameter)."""
    tests = {
        "serious_traffic": off.is_serious_traffic(),
        "significant_misdemeanor": off.is_significant_misdemeanor(),
        "domestic_violence": off.is_domestic_violence(),
        "firearm": off.is_firearm(),
    }
    # The parameter is a tuple of category names; each selected category joins the OR.
    selected = Param("strict.public_safety_risk_categories")
    return any_of(*(Lit(name).isin(selected) & test for name, test in tests.items()))


TFSC_STRICT_MISDEMEANOR = Rule(
    "actions.tfsc-strict.misdemeanor-no-public-safety-risk", "action",
    every("charges", off.is_misdemeanor_or_less() & ~public_safety_risk()) & ~Var("higher_category"),
    f"{TF} III rec. 1 (minority view)",
    "Arrested only for misdemeanors posing no public-safety risk, no higher category: no detainer.",
    outcome="no_detainer", rank=RANK_PACK_SECOND,
    safeguard="no detainer on misdemeanors posing no public-safety risk (report III rec. 1, "
    "minority view)",
    decline_reason="minor_misdemeanor",
)  # fmt: skip

# v2: a supervisor approves only where someone would be held (or watched for release).
TFSC_SUPERVISOR = Rule(
    "actions.tfsc.protected-aggravating-supervisor", "supervisor",
    Var("removable") & Var("protected") & Var("aggravating") & Var("action").isin(HOLDING_ACTIONS),
    f"{TF} IV rec. 2",
    "Protected person with an aggravating factor, and the action would hold them: a supervisor "
    "must approve.",
)  # fmt: skip

PEP_DETAINER = Rule(
    "actions.pep.transfer-priority-detainer", "action",
    Var("pep_transfer_priority") & Col("jurisdiction_honors_detainers"),
    f"{JOHNSON}; {JOHNSON_PEP}",
    "A PEP transfer priority (1(a), 1(c) by conviction, 1(d), 1(e), 2(a), 2(b)): detainer.",
    outcome="detainer", rank=RANK_PACK_FIRST,
)  # fmt: skip

PEP_NOTIFICATION = Rule(
    "actions.pep.transfer-priority-notification", "action",
    Var("pep_transfer_priority") & ~Col("jurisdiction_honors_detainers"),
    JOHNSON_PEP,
    "A PEP transfer priority where the jurisdiction does not honor detainers: request notice of release.",
    outcome="notification_request", rank=RANK_PACK_FIRST,
)  # fmt: skip

PEP_BASE = Rule(
    "actions.pep.not-a-transfer-priority", "action", TRUE, JOHNSON_PEP,
    "Not a PEP transfer priority: no detainer (any priority is still reported).",
    outcome="no_detainer", rank=RANK_BASE,
    safeguard="PEP: no detainer for a case that is not a transfer priority (Johnson, Secure "
    "Communities memo, Nov. 20, 2014)",
    decline_reason="not_a_priority",
)  # fmt: skip
