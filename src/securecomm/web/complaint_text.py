"""The public complaint pages' text in the six notice languages (report IV rec. 4: "a
meaningful, confidential, and accessible complaint process"; I.4 on language access).

The sentences live in Babel catalogs (``web/locale/<lang>/LC_MESSAGES/securecomm_complaints.po``)
read with the same rules as the notice and the public description (``interop.notices.
catalog_problems``: a missing, untranslated or fuzzy message, or a placeholder mismatch, makes
the catalog unusable and the page refuses to render rather than show a half-translated form)."""

from __future__ import annotations

from functools import cache

from babel.support import Translations

from ..interop.notices import LANGUAGES, normalize_language
from .program import LOCALE_DIR, N_, checked_translations

DOMAIN = "securecomm_complaints"

TEXT = {
    "title": N_("File a complaint with the DHS Office for Civil Rights and Civil Liberties"),
    "intro": N_(
        "You may complain about how you or another person was treated by the police, a jail or "
        "immigration officers under Secure Communities. You do not need an account and you do "
        "not have to give your name. Your name and contact are seen only by the Office for "
        "Civil Rights and Civil Liberties."
    ),
    "category": N_("What is the complaint about?"),
    "narrative": N_("What happened? Say when, where, and which police agency or jail."),
    "name": N_("Your name (optional)"),
    "contact": N_("How to reach you: telephone, e-mail or address (optional)"),
    "ori": N_("Police agency ORI code, if you know it (optional)"),
    "submit": N_("Send the complaint"),
    "received": N_("Your complaint was received. Keep this receipt code to check its status:"),
    "status_title": N_("Check the status of a complaint"),
    "receipt": N_("Receipt code"),
    "check": N_("Check"),
    "stage": N_("Status"),
    "received_on": N_("Received on"),
    "next_due": N_("Next step due by"),
    "outcome": N_("Outcome"),
    "not_found": N_("No complaint has this receipt code. Check the code and try again."),
}
CATEGORIES = {
    "profiling_or_pretextual_arrest": N_("Racial profiling or an arrest used as a pretext"),
    "us_citizen_held": N_("A United States citizen was held"),
    "held_past_detainer_limit": N_("Held in jail longer than the detainer allows"),
    "victim_or_witness_detained": N_("A crime victim or witness was detained"),
    "language_access": N_("No interpreter or translation was provided"),
    "other": N_("Something else"),
}
STAGES = {
    "received": N_("Received"),
    "acknowledged": N_("Acknowledged"),
    "assigned": N_("Assigned to an investigator"),
    "investigating": N_("Under investigation"),
    "resolved": N_("Resolved"),
    "referred": N_("Referred to another office"),
    "closed": N_("Closed"),
}
MESSAGES = (*TEXT.values(), *CATEGORIES.values(), *STAGES.values())


def catalog_path(language: str):
    return LOCALE_DIR / normalize_language(language) / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def _translations(language: str) -> Translations:
    return checked_translations(catalog_path(language), language, DOMAIN, MESSAGES)


def text(language: str) -> dict:
    """Every label of the public complaint pages in ``language`` (one of :data:`LANGUAGES`)."""
    t = _translations(normalize_language(language)).gettext
    return {
        **{k: t(v) for k, v in TEXT.items()},
        "categories": {k: t(v) for k, v in CATEGORIES.items()},
        "stages": {k: t(v) for k, v in STAGES.items()},
    }


__all__ = ["LANGUAGES", "MESSAGES", "catalog_path", "text"]
