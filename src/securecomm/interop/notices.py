"""Notices to the LEA (DESIGN 3.8; report IV.3, IV rec. 3) and the notice to the detained person.

LEA notices
    :func:`send_submission_response` answers a booking submission (idempotent on its TCN).
    :func:`send_decision_notice` returns the hit information a jurisdiction asked for: exactly
    the fields of ``decision.lea_disclosure.fields``. The policy engine has already applied the
    jurisdiction's disclosure preference (``full`` / ``public_safety_only`` / ``none``, the
    opt-out) and the Task Force packs' naturalized-citizen suppression; this module does not
    re-derive any of it, it only refuses to send what the decision did not allow. Detainers
    and notification requests are not sent from here: :mod:`securecomm.interop.lifecycle`
    lodges them and writes their notices (always delivered: they are requests to the LEA).

    Every notice goes through :func:`securecomm.store.repositories.create_notice` (idempotent
    on its key, audited as a disclosure); nothing here commits: the caller owns the
    transaction.

The notice to the detained person
    The December 2011 revision of the detainer form added a notice to the person in custody,
    printed in several languages, with a telephone line for people who believe they are United
    States citizens or crime victims. :func:`subject_notice` renders ours in English, Spanish,
    French, Portuguese, Simplified Chinese and Vietnamese. It says that a detainer has been
    lodged, that it cannot hold the person more than 48 hours beyond their release time,
    excluding Saturdays, Sundays and federal holidays (8 CFR 287.7(d); report footnote 7),
    and gives the hotline.

    **The hotline number is a synthetic placeholder** (:data:`HOTLINE_NUMBER`,
    ``1-855-000-0000``), not a real DHS line: every notice says so in its ``hotline`` block,
    and a deployment must set its own number.

Translations (gettext catalogs, Babel)
    The English source texts are the ``N_(...)`` constants below. ``locale/securecomm.pot`` is
    extracted from this file with Babel; ``locale/<lang>/LC_MESSAGES/securecomm.po`` holds each
    translation. Languages: ``en``, ``es``, ``fr``, ``pt`` (Brazilian usage, which CLDR's
    ``pt`` denotes and most Portuguese speakers in US custody read), ``zh_Hans`` and ``vi``.
    Chinese is ``zh_Hans`` (a script), not ``zh_CN`` (a country): the text is Simplified
    Chinese whatever country its reader comes from (mainland China, Singapore, Malaysia), and
    ``zh_CN`` would wrongly suggest a country-specific variant; ``zh``, ``zh-Hans``, ``zh_CN``
    and ``zh-SG`` are accepted as aliases.

    No compiled ``.mo`` file is kept: a ``.mo`` is a build artefact that can silently go stale
    against its ``.po``. At first use each ``.po`` is read with
    :func:`babel.messages.pofile.read_po`, checked (every message translated, none fuzzy,
    placeholders matching), compiled with :func:`babel.messages.mofile.write_mo` into an
    in-memory buffer and loaded as :class:`babel.support.Translations` (cached; a few
    milliseconds once per process). A catalog that fails the check raises
    :class:`NoticeError` rather than mixing English into a translated legal notice.

    After changing a message::

        pybabel extract -k N_ -c TRANSLATORS: --no-location --sort-output \\
            --project securecomm --version 0.1.0 --copyright-holder "the securecomm authors" \\
            -o src/securecomm/interop/locale/securecomm.pot src/securecomm/interop/notices.py
        pybabel update -D securecomm -i src/securecomm/interop/locale/securecomm.pot \\
            -d src/securecomm/interop/locale

    then translate the new or fuzzy entries; ``tests/interop/test_notices_i18n.py`` fails until
    the template matches this file and every catalog is complete.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..law.detainer_clock import DEFAULT_HOLD_HOURS
from ..law.schema import Decision
from ..store.audit import AuditBatch
from ..store.models import (
    IDEMPOTENCY_KEY_MAX,
    CaseRecord,
    DetainerKind,
    Notice,
    NoticeKind,
    Submission,
)
from ..store.repositories import NoticeToCreate, create_notices

__all__ = [
    "DOMAIN",
    "HOTLINE_IS_PLACEHOLDER",
    "HOTLINE_NUMBER",
    "LANGUAGES",
    "LOCALE_DIR",
    "MESSAGES",
    "REQUEST_FIELDS",
    "DecisionNotice",
    "NoticeError",
    "SubmissionResponse",
    "hotline",
    "normalize_language",
    "notice_key",
    "send_decision_notice",
    "send_decision_notices",
    "send_submission_response",
    "send_submission_responses",
    "subject_notice",
    "subject_notice_all",
    "subject_notice_for",
    "subject_notice_texts",
]

#: gettext domain: ``locale/<lang>/LC_MESSAGES/securecomm.po``.
DOMAIN = "securecomm"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
#: The languages of the notice to the person, in the order they are printed.
LANGUAGES: tuple[str, ...] = ("en", "es", "fr", "pt", "zh_Hans", "vi")

#: A clearly synthetic placeholder, NOT a real number: a deployment sets its own.
HOTLINE_NUMBER = "1-855-000-0000"
HOTLINE_IS_PLACEHOLDER = True

#: Disclosure fields that are requests to the LEA (delivered as detainer notices), not facts.
REQUEST_FIELDS = frozenset({"detainer", "notification_request"})

_LANGUAGE_ALIASES = {
    "en": "en",
    "en_us": "en",
    "es": "es",
    "es_us": "es",
    "fr": "fr",
    "pt": "pt",
    "pt_br": "pt",
    "zh": "zh_Hans",
    "zh_hans": "zh_Hans",
    "zh_cn": "zh_Hans",
    "zh_sg": "zh_Hans",
    "zh_hans_cn": "zh_Hans",
    "vi": "vi",
    "vi_vn": "vi",
}
_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


class NoticeError(ValueError):
    """A notice cannot be built or sent as asked; the message names the offending field."""


def N_(message: str) -> str:
    """Mark a message for extraction (``pybabel extract -k N_``); translated at render time."""
    return message


# --------------------------------------------------------------------------- messages
# The English source of the notice to the person. Plain words: many readers have little
# schooling in any language. Keep "DHS" and the placeholders in every translation.

# TRANSLATORS: Heading of a notice handed to a person held in a jail.
MSG_TITLE = N_("Notice to the person in custody")
# TRANSLATORS: Keep the English word "detainer" in parentheses after your term for it.
MSG_DETAINER = N_(
    "The U.S. Department of Homeland Security (DHS) has lodged an immigration detainer with "
    "the agency that is holding you. The detainer asks this agency to keep you in custody "
    "after the time you would otherwise be released, so that DHS can take you into its "
    "custody."
)
# TRANSLATORS: Added only for a conditional (post-conviction) detainer.
MSG_CONDITIONAL = N_(
    "This detainer takes effect only if you are convicted of the offense you are charged "
    "with. If the charge is dismissed or you are acquitted, the detainer no longer applies."
)
# TRANSLATORS: %(hours)s is a number (48). Saturdays, Sundays and federal holidays do not count.
MSG_LIMIT = N_(
    "The agency may not hold you on this detainer for more than %(hours)s hours beyond the "
    "time you would otherwise be released, not counting Saturdays, Sundays and federal "
    "holidays. If DHS has not taken you into custody by the end of that period, ask the "
    "agency that is holding you about your release."
)
# TRANSLATORS: Replaces the detainer text for a request for notice of release (no hold).
MSG_NOTIFICATION = N_(
    "The U.S. Department of Homeland Security (DHS) has asked the agency that is holding you "
    "to tell DHS before you are released. This request does not allow the agency to keep you "
    "in custody beyond the time you would otherwise be released."
)
# TRANSLATORS: %(hotline)s is a telephone number, printed as it is.
MSG_HOTLINE = N_(
    "If you believe you are a United States citizen or the victim of a crime, tell DHS by "
    "calling the toll-free hotline %(hotline)s."
)

#: Every message of the catalogs (the template must hold exactly these).
MESSAGES: tuple[str, ...] = (
    MSG_TITLE,
    MSG_DETAINER,
    MSG_CONDITIONAL,
    MSG_LIMIT,
    MSG_NOTIFICATION,
    MSG_HOTLINE,
)

_PARAGRAPHS: dict[DetainerKind, tuple[str, ...]] = {
    DetainerKind.detainer: (MSG_TITLE, MSG_DETAINER, MSG_LIMIT, MSG_HOTLINE),
    DetainerKind.conditional_detainer: (
        MSG_TITLE,
        MSG_DETAINER,
        MSG_CONDITIONAL,
        MSG_LIMIT,
        MSG_HOTLINE,
    ),
    DetainerKind.notification_request: (MSG_TITLE, MSG_NOTIFICATION, MSG_HOTLINE),
}


# --------------------------------------------------------------------------- catalogs


def normalize_language(language: object) -> str:
    """The catalog code for ``language`` (``zh``, ``zh-CN``, ``zh_Hans`` -> ``zh_Hans``)."""
    if not isinstance(language, str):
        raise NoticeError(f"language: expected a language code, got {type(language).__name__}")
    key = language.strip().replace("-", "_").lower()
    try:
        return _LANGUAGE_ALIASES[key]
    except KeyError:
        raise NoticeError(
            f"language: {language[:40]!r} is not available; choose one of {', '.join(LANGUAGES)}"
        ) from None


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / normalize_language(language) / "LC_MESSAGES" / f"{DOMAIN}.po"


def catalog_problems(catalog: Catalog, messages: tuple[str, ...] | None = None) -> list[str]:
    """What keeps ``catalog`` from being used: untranslated, fuzzy or missing messages,
    placeholder mismatches, Babel's own format checks. Empty when the catalog is usable.
    ``messages``: the msgids that must be there (default this module's; the web's public
    description checks its own catalog with the same rules)."""
    problems = []
    for msgid in MESSAGES if messages is None else messages:
        message = catalog.get(msgid)
        if message is None:
            problems.append(f"missing message {msgid[:50]!r}")
            continue
        if not message.string:
            problems.append(f"untranslated message {msgid[:50]!r}")
        if message.fuzzy:
            problems.append(f"fuzzy message {msgid[:50]!r}")
        if sorted(_PLACEHOLDER.findall(msgid)) != sorted(_PLACEHOLDER.findall(message.string)):
            problems.append(f"placeholders differ in {msgid[:50]!r}")
    for message, errors in catalog.check():
        problems.extend(f"{str(message.id)[:50]!r}: {error}" for error in errors)
    return problems


@cache
def _translations(language: str) -> Translations:
    path = catalog_path(language)
    try:
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=language, domain=DOMAIN)
    except OSError as exc:
        raise NoticeError(f"language: catalog {path} cannot be read: {exc}") from exc
    problems = catalog_problems(catalog)
    if problems:
        raise NoticeError(f"language: catalog {path} is not usable: {'; '.join(problems)}")
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


def subject_notice_for(kind: DetainerKind | str, language: str) -> str:
    """The notice to the person for a detainer of ``kind``, in ``language`` (paragraphs
    separated by a blank line)."""
    try:
        kind = DetainerKind(kind)
    except ValueError:
        raise NoticeError(f"kind: {kind!r} is not a detainer kind") from None
    translations = _translations(normalize_language(language))
    values = {"hours": DEFAULT_HOLD_HOURS, "hotline": HOTLINE_NUMBER}
    return "\n\n".join(translations.gettext(msg) % values for msg in _PARAGRAPHS[kind])


def subject_notice(language: str) -> str:
    """The notice to a person on whom a detainer has been lodged, in ``language``."""
    return subject_notice_for(DetainerKind.detainer, language)


def subject_notice_texts(kind: DetainerKind | str) -> dict[str, str]:
    """language -> notice text for every language, for a detainer of ``kind``."""
    return {language: subject_notice_for(kind, language) for language in LANGUAGES}


def subject_notice_all() -> dict[str, str]:
    """language -> the detainer notice to the person, in every language."""
    return subject_notice_texts(DetainerKind.detainer)


def hotline() -> dict[str, Any]:
    """The hotline block every detainer notice carries (says that the number is a placeholder)."""
    return {
        "number": HOTLINE_NUMBER,
        "placeholder": HOTLINE_IS_PLACEHOLDER,
        "for": "people in custody who believe they are United States citizens or victims of "
        "a crime",
        "note": "synthetic placeholder number, not a real DHS line; a deployment sets its own",
    }


# --------------------------------------------------------------------------- LEA notices


def notice_key(*parts: object) -> str:
    """A deterministic idempotency key from ``parts``; hashed when longer than the column."""
    key = ":".join(str(p) for p in parts)
    if len(key) <= IDEMPOTENCY_KEY_MAX:
        return key
    return f"{parts[0]}:sha256:{hashlib.sha256(key.encode('utf-8', 'surrogatepass')).hexdigest()}"


def _aware(field: str, value: object) -> datetime:
    if not isinstance(value, datetime):
        raise NoticeError(
            f"{field}: expected a timezone-aware datetime, got {type(value).__name__}"
        )
    if value.tzinfo is None or value.utcoffset() is None:
        raise NoticeError(
            f"{field}: naive datetime {value.isoformat()} is ambiguous; give an aware datetime"
        )
    return value.astimezone(UTC)


def _text(field: str, value: object, max_length: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise NoticeError(f"{field}: expected a non-empty string, got {value!r:.60}")
    if len(value) > max_length:
        raise NoticeError(f"{field}: longer than {max_length} characters")
    return value


@dataclass(frozen=True)
class SubmissionResponse:
    """One submission response to send (see :func:`send_submission_response`)."""

    submission_id: int
    ori: str
    tcn: str
    content: Mapping[str, Any]
    at: datetime


@dataclass(frozen=True)
class DecisionNotice:
    """One decision notice to send (see :func:`send_decision_notice`)."""

    case_id: str
    ori: str
    decision: Decision | Mapping[str, Any]
    facts: Mapping[str, Any]
    at: datetime


def send_submission_responses(
    session: Session,
    items: Sequence[SubmissionResponse],
    *,
    audit_batch: AuditBatch | None = None,
) -> list[int]:
    """:func:`send_submission_response` for a batch: one lookup of the submissions, one
    multi-row insert, one audit append (each notice still its own entry) -> notice ids."""
    checked = []
    for item in items:
        _text("tcn", item.tcn, 64)
        _text("ori", item.ori, 9)
        at = _aware("at", item.at)
        if not isinstance(item.content, Mapping):
            raise NoticeError(f"content: expected a mapping, got {type(item.content).__name__}")
        sid = item.submission_id
        if isinstance(sid, bool) or not isinstance(sid, int):
            raise NoticeError(f"submission_id: expected an integer id, got {sid!r:.40}")
        checked.append((item, at))
    table = Submission.__table__
    known: dict[int, tuple[str, str]] = {}
    ids = sorted({i.submission_id for i in items})
    for lo in range(0, len(ids), 5000):
        for sid, tcn, ori in session.execute(
            select(table.c.id, table.c.tcn, table.c.ori).where(table.c.id.in_(ids[lo : lo + 5000]))
        ):
            known[sid] = (tcn, ori)
    specs = []
    for item, at in checked:
        sid = item.submission_id
        if sid not in known:
            raise NoticeError(f"submission_id: submission {sid} does not exist")
        tcn, ori = known[sid]
        if tcn != item.tcn:
            raise NoticeError(f"tcn: submission {sid} has TCN {tcn!r}, not {item.tcn!r}")
        if ori != item.ori:
            raise NoticeError(
                f"ori: submission {sid} came from {ori}, not {item.ori}; "
                "an LEA is answered only on its own ORI"
            )
        specs.append(
            NoticeToCreate(
                ori=item.ori,
                kind=NoticeKind.submission_response,
                idempotency_key=notice_key("submission-response", item.tcn),
                content=dict(item.content),
                created_at=at,
                submission_id=sid,
            )
        )
    return [nid for nid, _ in create_notices(session, specs, audit_batch=audit_batch)]


def send_submission_response(
    session: Session,
    *,
    submission_id: int,
    ori: str,
    tcn: str,
    content: dict,
    at: datetime,
) -> Notice:
    """The response to a booking submission, to the submitting LEA. Idempotent on the TCN:
    a retry with the same content returns the stored notice; different content raises
    :class:`~securecomm.store.errors.ConflictError`. ``content`` is stored as given."""
    (notice_id,) = send_submission_responses(
        session, [SubmissionResponse(submission_id, ori, tcn, content, at)]
    )
    notice = session.get(Notice, notice_id)
    assert notice is not None
    return notice


def _decision_content(case_id: str, decision: Decision, facts: Mapping[str, Any]) -> dict[str, Any]:
    disclosed: dict[str, Any] = {}
    requests: list[str] = []
    for name in decision.lea_disclosure.fields:
        if name in REQUEST_FIELDS:
            requests.append(name)
        elif name in facts:
            disclosed[name] = facts[name]
        else:
            raise NoticeError(
                f"facts.{name}: the decision discloses {name!r} but facts has no such key "
                f"(facts keys: {sorted(map(str, facts))})"
            )
    return {
        "type": "decision",
        "case_id": case_id,
        "policy": decision.policy,
        "policy_version": decision.policy_version,
        "disclosed": disclosed,
        "requests": requests,
    }


def _as_decision(decision: object) -> Decision:
    if isinstance(decision, Decision):
        return decision
    if not isinstance(decision, Mapping):
        raise NoticeError(f"decision: expected a Decision v1, got {type(decision).__name__}")
    try:
        return Decision.model_validate(dict(decision))
    except ValidationError as exc:
        raise NoticeError(f"decision: not a valid Decision v1: {exc.errors()[0]}") from exc


def send_decision_notices(
    session: Session,
    items: Sequence[DecisionNotice],
    *,
    audit_batch: AuditBatch | None = None,
) -> list[int | None]:
    """:func:`send_decision_notice` for a batch -> the notice id per item (None where the
    decision does not notify)."""
    checked = []
    for item in items:
        decision = _as_decision(item.decision)
        _text("case_id", item.case_id, 64)
        _text("ori", item.ori, 9)
        at = _aware("at", item.at)
        if decision.case_id != item.case_id:
            raise NoticeError(
                f"decision.case_id: {decision.case_id!r} is not case {item.case_id!r}"
            )
        if not isinstance(item.facts, Mapping):
            raise NoticeError(f"facts: expected a mapping, got {type(item.facts).__name__}")
        checked.append((item, decision, at))
    wanted = sorted({i.case_id for i, d, _ in checked if d.lea_disclosure.notify})
    table = CaseRecord.__table__
    case_ori: dict[str, str] = {}
    for lo in range(0, len(wanted), 5000):
        case_ori.update(
            session.execute(
                select(table.c.case_id, table.c.ori).where(
                    table.c.case_id.in_(wanted[lo : lo + 5000])
                )
            ).all()
        )
    specs, slots = [], []
    for n, (item, decision, at) in enumerate(checked):
        if not decision.lea_disclosure.notify:
            continue
        cid = item.case_id
        if cid not in case_ori:
            raise NoticeError(f"case_id: case {cid!r} does not exist")
        if case_ori[cid] != item.ori:
            raise NoticeError(
                f"ori: case {cid!r} belongs to {case_ori[cid]}, not {item.ori}; an LEA sees "
                "only its own ORI"
            )
        specs.append(
            NoticeToCreate(
                ori=item.ori,
                kind=NoticeKind.case_update,
                idempotency_key=notice_key(
                    "decision", cid, decision.policy, decision.policy_version
                ),
                content=_decision_content(cid, decision, item.facts),
                created_at=at,
                case_id=cid,
            )
        )
        slots.append(n)
    out: list[int | None] = [None] * len(checked)
    for n, (nid, _created) in zip(
        slots, create_notices(session, specs, audit_batch=audit_batch), strict=True
    ):
        out[n] = nid
    return out


def send_decision_notice(
    session: Session,
    *,
    case_id: str,
    ori: str,
    decision: Decision,
    facts: dict,
    at: datetime,
) -> Notice | None:
    """The hit information a jurisdiction receives about a case, filtered by the decision.

    ``facts`` holds what the checks found, under the keys ``identity``, ``aliases``,
    ``warrants``, ``watch_list``, ``gang`` and ``immigration_status``. The notice's
    ``content["disclosed"]`` holds exactly those of them that are in
    ``decision.lea_disclosure.fields`` (nothing else from ``facts`` is ever copied);
    ``content["requests"]`` lists the request fields (``detainer``,
    ``notification_request``) whose own notices the detainer lifecycle sends. A disclosed
    field missing from ``facts`` is an error, not a silent omission.

    Returns ``None`` (and writes nothing) when ``decision.lea_disclosure.notify`` is false.
    Idempotent on (case id, policy, policy version); kind ``case_update``.
    """
    (notice_id,) = send_decision_notices(
        session, [DecisionNotice(case_id, ori, decision, facts, at)]
    )
    return session.get(Notice, notice_id) if notice_id is not None else None
