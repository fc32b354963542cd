"""Information returned to the LEA (report IV.3, IV rec. 3; DESIGN 3.8).

The jurisdiction's preference decides the hit information (``full``: everything;
``public_safety_only``: identity, aliases, warrants, watch-list, gang — not immigration status;
``none``: nothing). Detainers and notification requests are requests to the LEA and are always
delivered. The Task Force packs add a suppression: no hit information on any citizen (v2).
"""

from __future__ import annotations

from ..expr import Col, Var
from ..model import Rule
from ..parameters import TF

_pref = Col("jurisdiction_disclosure")
_receives = _pref.isin(("full", "public_safety_only"))

PUBLIC_SAFETY_FIELDS = ("identity", "aliases", "warrants", "watch_list", "gang")

RULES = (
    *(
        Rule(f"disclosure.{field}", "disclosure", _receives, f"{TF} IV rec. 3",
             f"The jurisdiction receives {field.replace('_', '-')} information.", field=field)
        for field in PUBLIC_SAFETY_FIELDS
    ),
    Rule("disclosure.immigration_status", "disclosure", _pref.eq("full"), f"{TF} IV rec. 3",
         "The jurisdiction asked for full information, including immigration status.",
         field="immigration_status"),
    Rule("disclosure.detainer", "disclosure", Var("action").isin(("detainer", "conditional_detainer")),
         f"{TF} I.4; 8 CFR 287.7", "A detainer is a request to the LEA and is always delivered.",
         field="detainer", always=True),
    Rule("disclosure.notification_request", "disclosure", Var("action").eq("notification_request"),
         f"{TF} I.4", "A request for notice of release is always delivered.",
         field="notification_request", always=True),
)  # fmt: skip

# v2: IV rec. 3 names naturalized citizens; a US-born citizen falsely matched to an immigration
# record is the same harm, so no citizen's hit information reaches the police.
CITIZEN_SUPPRESSION = Rule(
    "disclosure.citizen-suppressed", "suppression", Var("is_citizen"), f"{TF} IV rec. 3",
    "A citizen (naturalized, or US-born and matched to an immigration record): no immigration "
    "hit information goes to the police.",
)  # fmt: skip
