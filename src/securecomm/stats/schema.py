"""Booking outcome v1 — the one table the statistics are computed from.

One row per booking and policy. Two producers write it: the synthetic nation in bulk
(``securecomm.synth``: nation bookings -> bulk evaluation under a pack -> simulated custody
and removal) and the pipeline's store (``securecomm.stats.from_store``). ``securecomm stats``
reads it. The categories are the stable, documented categories of the monthly statistics the
Task Force asked ICE to publish (I rec. 4, II rec. 4); changing a value list is a format change.
"""

from __future__ import annotations

import pyarrow as pa

from securecomm.law.model import DECLINE_REASONS
from securecomm.law.packs import decline_reasons_by_rule
from securecomm.law.schema import CitizenshipStatus, Program

__all__ = [
    "ACTIONS",
    "BOOKING_OUTCOME_SCHEMA",
    "CHARGE_CATEGORIES",
    "CONVICTION_STATUSES",
    "DECLINE_REASONS",
    "DECLINE_REASON_BY_RULE",
    "DETAINER_KINDS",
    "LEVEL_CATEGORIES",
    "PRIORITY_BASES",
    "PROGRAMS",
    "STATUS_CATEGORIES",
]

# The originating program of a booking (TF I rec. 3: the same rules for Secure Communities,
# 287(g), the Criminal Alien Program and Border Patrol) — the Case v1 enumeration, in its order.
PROGRAMS = tuple(program.value for program in Program)

# DESIGN 3.2 status values as the LESC determines them (null: no IDENT match, no hit) — the
# Case v1 enumeration itself, in its order.
STATUS_CATEGORIES = tuple(status.value for status in CitizenshipStatus)

# DESIGN 3.6 actions (null: no IDENT match, so no case).
ACTIONS = ("no_action", "no_detainer", "conditional_detainer", "detainer", "notification_request")

# Why a removable person got no detainer: the deciding action rule's ``decline_reason`` (a field
# of the rule, law/rules/actions.py), named by category; the built-in rules' map for consumers
# that only have a rule id.
DECLINE_REASON_BY_RULE = decline_reasons_by_rule()

# The most serious current charge of the booking, in this order of seriousness (highest last):
# minor_traffic < other_minor_misdemeanor < serious_traffic < other_misdemeanor < felony.
# minor traffic / minor misdemeanor / serious traffic are the DESIGN 3.1 categories.
CHARGE_CATEGORIES = (
    "minor_traffic",
    "other_minor_misdemeanor",
    "serious_traffic",
    "other_misdemeanor",
    "felony",
)

# convicted: any conviction (prior, or a current charge disposed as convicted);
# charged_only: a criminal-history record with arrests but no conviction;
# no_criminal_history: no criminal-history record before this booking.
CONVICTION_STATUSES = ("convicted", "charged_only", "no_criminal_history")

BOOKING_OUTCOME_SCHEMA = pa.schema(
    [
        pa.field("policy", pa.string(), nullable=False),
        pa.field("tcn", pa.string(), nullable=False),
        pa.field("booked_at", pa.timestamp("us", tz="UTC"), nullable=False),
        # first day of the booking's month in the jurisdiction's local time
        pa.field("month", pa.date32(), nullable=False),
        pa.field("ori", pa.string(), nullable=False),
        pa.field("state", pa.string(), nullable=False),
        pa.field("county_fips", pa.string()),
        pa.field("program", pa.string(), nullable=False),
        # booking-system race/ethnicity as recorded (for bias monitoring; not a policy input)
        pa.field("race", pa.string()),
        pa.field("ethnicity", pa.string()),
        pa.field("ident_match", pa.bool_(), nullable=False),
        pa.field("status_category", pa.string()),
        pa.field("action", pa.string()),
        pa.field("action_rule", pa.string()),
        pa.field("decline_reason", pa.string()),
        pa.field("level", pa.int8()),
        pa.field("priority", pa.string()),
        pa.field("priority_bases", pa.list_(pa.string())),
        # the pack's "protected" finding (DESIGN 3.5: victim, witness, domestic-violence victim,
        # civil-rights plaintiff, pending U/T/VAWA relief), whatever the action; null: no case
        pa.field("protected", pa.bool_()),
        pa.field("charge_category", pa.string(), nullable=False),
        pa.field("conviction_status", pa.string(), nullable=False),
        pa.field("ice_custody", pa.bool_(), nullable=False),
        pa.field("removed", pa.bool_(), nullable=False),
        pa.field("held_past_expiry", pa.bool_(), nullable=False),
    ]
)


# --------------------------------------------------------------------------- statistics
# Additions for ``securecomm.stats`` (categories of the published tables; not columns).

# ICE custody and removals by the booking's criminal level (DESIGN 3.3; level null ->
# non_criminal: no conviction that the level rules count).
LEVEL_CATEGORIES = ("level_1", "level_2", "level_3", "non_criminal")

# detainers: action ``detainer`` -> unconditional, ``conditional_detainer`` -> conditional.
DETAINER_KINDS = ("unconditional", "conditional")

# Every priority basis label the four packs can report (Morton 2011 1(a)..3(c) with the
# ``level-N`` of 1(b); Johnson 2014 1(a)..3), plus ``other`` for any label outside this list
# (a user variant's). tests/stats check the list against the packs.
PRIORITY_BASES = (
    "1(a)", "1(b)", "1(c)", "1(d)", "1(e)", "2(a)", "2(b)", "2(c)", "2(d)",
    "3", "3(a)", "3(b)", "3(c)", "level-1", "level-2", "level-3", "other",
)  # fmt: skip
