"""The plain-language description of the program and of the policy in force, in the six
languages of the subject notice (report I.4: "clarify the program"; I rec. 1).

Generated from the policy pack itself: its title, citation, hold limit parameter and its
action rules (each with its outcome and legal source) fill translated sentences. The sentences
live in Babel catalogs (``web/locale/<lang>/LC_MESSAGES/securecomm_web.po``), read with the same
machinery and the same checks as the subject notice (``interop.notices``: a catalog with a
missing, untranslated or fuzzy message, or with different placeholders, is refused)."""

from __future__ import annotations

from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from ..explain import pack_summary
from ..interop.notices import LANGUAGES, catalog_problems, normalize_language

DOMAIN = "securecomm_web"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


def N_(message: str) -> str:
    """Mark a message for the catalog (translated at render time)."""
    return message


MSG_TITLE = N_("How Secure Communities works")
MSG_INTRO = N_(
    "When the police book a person into jail, the fingerprints they already take are checked "
    "against the FBI's criminal records and against the immigration records of the Department "
    "of Homeland Security. The check is automatic: the police do not choose whom to check."
)
MSG_POLICY = N_("The policy in force today is: %(title)s. Source: %(citation)s.")
MSG_RULES = N_(
    "For every person the immigration records identify, a recommendation is computed from "
    "written rules, each with its legal source. An officer of Immigration and Customs "
    "Enforcement (ICE) accepts it or overrides it with a written reason; an override that "
    "removes a protection needs a supervisor's approval."
)
MSG_RULE_LIST = N_("The rules of this policy, the first that applies decides:")
MSG_RULE = N_("%(outcome)s (%(citation)s)")
MSG_DETAINER = N_(
    "A detainer asks the jail to hold a person for at most %(hours)s hours, not counting "
    "Saturdays, Sundays and federal holidays, after the time the person would otherwise be "
    "released. After that time the detainer no longer allows holding the person."
)
MSG_DISCLOSURE = N_(
    "Each jurisdiction chooses what immigration information it receives back: all of it, "
    "public-safety information only, or none. Citizens' immigration information is never "
    "sent to the police."
)
MSG_STATISTICS = N_(
    "ICE publishes statistics every month for each jurisdiction. Numbers smaller than "
    "%(k)s are hidden to protect privacy."
)
MSG_STATS = N_("Statistics")
MSG_SUPPRESSED = N_("Counts from 1 to %(k)s are not shown, to protect privacy.")
MSG_CHART_MONTHLY = N_("Bookings checked, per month")
MSG_CHART_DETAINERS = N_("Detainers lodged, per month")
MSG_CHART_PLACES = N_("Bookings checked by jurisdiction (20 largest)")
MSG_AXIS_MONTH = N_("Month")
MSG_AXIS_COUNT = N_("Count")
MSG_AXIS_PLACE = N_("Jurisdiction (county, state)")
MSG_NO_STATS = N_("No statistics published yet.")
LABELS = {
    "statistics": MSG_STATS, "suppressed": MSG_SUPPRESSED, "chart_monthly": MSG_CHART_MONTHLY,
    "chart_detainers": MSG_CHART_DETAINERS, "chart_places": MSG_CHART_PLACES,
    "axis_month": MSG_AXIS_MONTH, "axis_count": MSG_AXIS_COUNT, "axis_place": MSG_AXIS_PLACE,
    "no_statistics": MSG_NO_STATS,
}  # fmt: skip
OUTCOMES = {
    "detainer": N_("Detainer: the jail is asked to hold the person"),
    "conditional_detainer": N_(
        "Conditional detainer: a hold only if the person is convicted of the charge"
    ),
    "notification_request": N_("Notification request: ICE asks to be told of the release"),
    "no_detainer": N_("No detainer"),
    "no_action": N_("No action"),
}
MESSAGES = (
    MSG_TITLE, MSG_INTRO, MSG_POLICY, MSG_RULES, MSG_RULE_LIST, MSG_RULE, MSG_DETAINER,
    MSG_DISCLOSURE, MSG_STATISTICS, *OUTCOMES.values(), *LABELS.values(),
)  # fmt: skip


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / normalize_language(language) / "LC_MESSAGES" / f"{DOMAIN}.po"


def checked_translations(path: Path, language: str, domain: str, messages) -> Translations:
    """The Babel translations of ``path``, refused (fail closed) unless every message of
    ``messages`` is translated and well formed (the notices' own catalog check)."""
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=language, domain=domain)
    problems = catalog_problems(catalog, messages)
    if problems:
        raise ValueError(f"language: catalog {path.name} ({language}) is not usable: {problems[0]}")
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain=domain)


@cache
def _translations(language: str) -> Translations:
    return checked_translations(catalog_path(language), language, DOMAIN, MESSAGES)


def describe(pack: Any, language: str, *, suppress_below: int = 10) -> dict[str, Any]:
    """The description as {language, title, paragraphs, rules_heading, rules}; the rules are
    the pack's action rules in precedence order, each with its outcome and citation."""
    language = normalize_language(language)
    t = _translations(language).gettext
    summary = pack_summary(pack)
    hours = pack.parameters["detainer.hold_hours"].value
    rules = [
        {
            "rule": r["id"],
            "outcome": r["outcome"],
            "text": t(MSG_RULE) % {"outcome": t(OUTCOMES[r["outcome"]]), "citation": r["citation"]},
        }
        for r in sorted(summary["action_rules"], key=lambda r: -r["rank"])
    ]
    return {
        "language": language,
        "title": t(MSG_TITLE),
        "paragraphs": [
            t(MSG_INTRO),
            t(MSG_POLICY) % {"title": pack.title, "citation": pack.citation},
            t(MSG_RULES),
            t(MSG_DETAINER) % {"hours": hours},
            t(MSG_DISCLOSURE),
            t(MSG_STATISTICS) % {"k": suppress_below},
        ],
        "rules_heading": t(MSG_RULE_LIST),
        "rules": rules,
        "labels": {
            key: t(msg) % {"k": suppress_below - 1} if "%(k)s" in msg else t(msg)
            for key, msg in LABELS.items()
        },
    }


__all__ = ["LANGUAGES", "MESSAGES", "catalog_path", "describe"]
