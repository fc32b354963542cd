"""The final action on a case: one stored fact, and what no one may choose (issue 8 item 4).

The final action
    ``cases.final_action`` (with ``final_action_at`` and ``final_officer_action_id``,
    migration 0006) is what the officer action that released the case chose: an officer's
    accept or override that needed no supervisor, a supervisor's approval, or the simulated
    officers' automatic acceptance. It is written once, by
    :func:`securecomm.store.repositories.set_final_actions` (audited ``case.final_action``),
    and read by everything that acts on a decision: the ``act`` stage lodges the detainer or
    notification request it names, the LEA decision notice lists exactly the request it
    implies (:func:`lea_requests`), and the statistics export reports it.

Never against a citizen
    A detainer is a request to hold an *alien* (8 CFR 287.7(a)); the Task Force asked that no
    immigration hit information reach the police about citizens (report IV rec. 3). So no
    detainer, conditional detainer or notification request may be the final action on a
    person whose status determination is a citizen -- by birth (falsely matched) or
    naturalized -- whatever an officer or supervisor enters. :func:`citizen_refusal` says why
    such a choice is refused; the field office and the pipeline refuse it and audit the
    refusal (``case.action_refused``), and lodging refuses it again.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from ..law.expr import PythonCompiler
from ..law.rules import disclosure
from ..law.schema import Action, CitizenshipStatus

__all__ = [
    "CITIZEN_CITATION",
    "CITIZEN_STATUSES",
    "HOLDING_ACTIONS",
    "REFUSED_EVENT",
    "citizen_refusal",
    "citizenship_of",
    "lea_requests",
]

#: Status determinations that are citizenship (the person is not an alien).
CITIZEN_STATUSES = frozenset(
    {CitizenshipStatus.us_citizen_by_birth, CitizenshipStatus.naturalized_citizen}
)
#: Actions that ask the police to hold the person or to tell ICE of their release.
HOLDING_ACTIONS = frozenset(
    {Action.detainer, Action.conditional_detainer, Action.notification_request}
)
CITIZEN_CITATION = (
    "8 CFR 287.7(a) (a detainer is issued for an alien); HSAC Task Force on Secure "
    "Communities report (Sept. 2011) IV rec. 3 (no hit information on citizens to the police)"
)
#: The audit event of a refused choice.
REFUSED_EVENT = "case.action_refused"


def citizenship_of(case_json: Mapping[str, Any] | None) -> str | None:
    """The status determination of a stored Case v1 document (``person.citizenship_status``)."""
    if not isinstance(case_json, Mapping):
        return None
    person = case_json.get("person")
    return person.get("citizenship_status") if isinstance(person, Mapping) else None


def citizen_refusal(status: CitizenshipStatus | str | None, action: Action | str) -> str | None:
    """Why ``action`` may not be taken against a person whose status determination is
    ``status`` -- or None when it may. The message names the action and the status, never the
    person."""
    try:
        chosen = Action(action)
        determined = CitizenshipStatus(status) if status is not None else None
    except ValueError:
        return None  # not an action / status: the caller's own validation names it
    if chosen not in HOLDING_ACTIONS or determined not in CITIZEN_STATUSES:
        return None
    who = (
        "a US citizen by birth"
        if determined is CitizenshipStatus.us_citizen_by_birth
        else ("a naturalized US citizen")
    )
    return (
        f"refused: no {chosen.value.replace('_', ' ')} may be lodged against a person whose "
        f"status determination is {who} ({CITIZEN_CITATION})"
    )


@cache
def _request_rules() -> tuple[tuple[str, Any], ...]:
    """The always-delivered disclosure rules (requests to the LEA) compiled with the action as
    their only variable: the law's own definition of which action implies which request."""
    out = []
    for rule in disclosure.RULES:
        if rule.always and rule.field is not None:
            holder: dict[str, Any] = {}
            fn = PythonCompiler({"action": lambda r, i, e, h=holder: h["action"]}).compile(
                rule.when
            )
            out.append((rule.field, (fn, holder)))
    return tuple(out)


def lea_requests(action: Action | str | None) -> list[str]:
    """The requests to the LEA (``detainer``, ``notification_request``) the final action
    implies, as the disclosure rules define them; none without a final action."""
    if action is None:
        return []
    value = Action(action).value
    requests = []
    for field, (fn, holder) in _request_rules():
        holder["action"] = value
        if fn({}, None, {}):
            requests.append(field)
    return requests
