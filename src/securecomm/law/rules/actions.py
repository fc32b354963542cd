"""Action rules of each pack, with explicit precedence (DESIGN 3.6).

Ranks, highest first, in every pack: 100 not removable or status unknown -> no_action;
90 protected and not aggravating -> no_detainer; 80..50 the pack's own rules in the order
listed; 0 the pack's base rule. The highest applicable rank decides; lower applicable rules are
still reported. Two applicable rules of one rank with different outcomes, or none at all, is an
error (engine.PolicyConflict / engine.NoApplicableRule).
"""

from __future__ import annotations

from .. import offenses as off
from ..expr import TRUE, Col, Expr, Item, Lit, Param, Var, any_of, every, exists
from ..model import Rule
from ..parameters import JOHNSON, MORTON_JUNE, MORTON_MARCH, TF

RANK_NOT_REMOVABLE = 100
RANK_PROTECTED = 90
RANK_PACK_FIRST = 80
RANK_PACK_SECOND = 70
RANK_BASE = 0

COMMON = (
    Rule("actions.not-removable", "action", ~Var("removable") & ~Var("status_unknown"),
         "DESIGN 3.2; INA 237", "Not removable: no immigration enforcement action.",
         outcome="no_action", rank=RANK_NOT_REMOVABLE),
    Rule("actions.status-unknown", "action", Var("status_unknown"), f"{TF} I.1; DESIGN 3.2",
         "Status not determined: no action until it is.", outcome="no_action", rank=RANK_NOT_REMOVABLE),
    Rule("actions.protected-not-aggravating", "action", Var("protected") & ~Var("aggravating"),
         f"{MORTON_JUNE}; {TF} IV rec. 2",
         "Protected victim, witness or plaintiff with no aggravating factor: no detainer.",
         outcome="no_detainer", rank=RANK_PROTECTED),
)  # fmt: skip

MORTON_BASE = Rule(
    "actions.morton.removable-detainer", "action", TRUE, f"{MORTON_MARCH}; {TF} II.1",
    "Removable: detainer (status-quo practice detained non-priority cases too).",
    outcome="detainer", rank=RANK_BASE,
)  # fmt: skip

TFSC_MINOR_TRAFFIC = Rule(
    "actions.tfsc.minor-traffic-only", "action",
    every("charges", off.is_minor_traffic()) & ~Var("higher_category"), f"{TF} III rec. 1",
    "Arrested only for minor traffic offenses and in no higher priority category: no detainer.",
    outcome="no_detainer", rank=RANK_PACK_FIRST,
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
)  # fmt: skip

TFSC_SUPERVISOR = Rule(
    "actions.tfsc.protected-aggravating-supervisor", "supervisor", Var("removable") & Var("protected") & Var("aggravating"),
    f"{TF} IV rec. 2", "Protected person with an aggravating factor: a supervisor must approve.",
)  # fmt: skip

PEP_DETAINER = Rule(
    "actions.pep.transfer-priority-detainer", "action",
    Var("pep_transfer_priority") & Col("jurisdiction_honors_detainers"),
    f"{JOHNSON}; Johnson memo on Secure Communities (PEP), Nov. 20, 2014",
    "A PEP transfer priority (1(a), 1(c), 1(d), 1(e), 2(a), 2(b)): detainer.",
    outcome="detainer", rank=RANK_PACK_FIRST,
)  # fmt: skip

PEP_NOTIFICATION = Rule(
    "actions.pep.transfer-priority-notification", "action",
    Var("pep_transfer_priority") & ~Col("jurisdiction_honors_detainers"),
    "Johnson memo on Secure Communities (PEP), Nov. 20, 2014",
    "A PEP transfer priority where the jurisdiction does not honor detainers: request notice of release.",
    outcome="notification_request", rank=RANK_PACK_FIRST,
)  # fmt: skip

PEP_BASE = Rule(
    "actions.pep.not-a-transfer-priority", "action", TRUE,
    "Johnson memo on Secure Communities (PEP), Nov. 20, 2014",
    "Not a PEP transfer priority: no detainer (any priority is still reported).",
    outcome="no_detainer", rank=RANK_BASE,
)  # fmt: skip
