"""``securecomm detainers …`` and ``securecomm notices …``: a thin Typer front over
:mod:`securecomm.interop.lifecycle` and :mod:`securecomm.interop.notices`.

Register in the main CLI with ``register(app)``. The database is ``--url`` or
``SECURECOMM_DATABASE_URL`` (default ``sqlite:///securecomm.db`` in the current directory);
each command is one transaction. Times: ISO 8601; a time without an offset given for a
detainer or a case is the holding facility's local time (its jurisdiction's time zone);
``--now`` needs an offset. Durations: ``4h``, ``90m``, ``1h30m``, ``2d``.

Exit status (:mod:`securecomm.cli.preamble`): 0 done, 1 a domain error (illegal transition,
unknown detainer or case), 2 a usage or configuration error (bad option value, timestamp or
duration; a database that is unreachable, missing or not migrated).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

import typer

from ..cli.preamble import Typer, UrlOpt, err, fail, out, transaction
from ..cli.render import Col, Format, FormatOpt, emit_document, emit_rows

__all__ = ["detainers_app", "notices_app", "parse_duration", "register"]

detainers_app = Typer(
    help="Detainer lifecycle: release-eligible time, hold-until clock, custody, lift, expiry "
    "(8 CFR 287.7(d))."
)
notices_app = Typer(help="Notices to law-enforcement agencies; the notice to the detained person.")

T = TypeVar("T")

ActorOpt = Annotated[str, typer.Option("--actor", help="Who records this (audited).")]
OriOpt = Annotated[str | None, typer.Option("--ori", help="Only this ORI.", show_default=False)]
LimitOpt = Annotated[int, typer.Option("--limit", min=1, max=100_000, help="At most N rows.")]

_DURATION = re.compile(r"(\d+(?:\.\d+)?)([dhms])")
_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def register(app: typer.Typer) -> None:
    """Add the ``detainers`` and ``notices`` sub-commands to ``app``."""
    app.add_typer(detainers_app, name="detainers")
    app.add_typer(notices_app, name="notices")


# --------------------------------------------------------------------------- helpers


def parse_duration(text: str) -> timedelta:
    """``4h``, ``90m``, ``1h30m``, ``2d``, ``45s`` -> timedelta (ValueError otherwise)."""
    compact = text.strip().lower().replace(" ", "")
    if not compact:
        raise ValueError("empty duration")
    pos, total = 0, timedelta(0)
    for match in _DURATION.finditer(compact):
        if match.start() != pos:
            break
        total += timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})
        pos = match.end()
    if pos != len(compact):
        raise ValueError(f"{text!r} is not a duration like 4h, 90m, 1h30m or 2d")
    return total


def _aware_now(text: str | None, option: str) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        fail(f"{option}: not an ISO 8601 date-time: {text!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        fail(f"{option}: {text!r} has no UTC offset; give one, e.g. 2011-10-07T17:00-04:00 or Z")
    return value


def _local_time(text: str | None, timezone: str, option: str) -> datetime:
    """An ISO 8601 time; without an offset, wall time in ``timezone`` (DST-checked)."""
    from ..law.detainer_clock import DetainerClockError, parse_release_time

    if text is None:
        return datetime.now(UTC)
    try:
        return parse_release_time(text, timezone)
    except DetainerClockError as exc:
        fail(f"{option}: {exc}")


def _run(url: str | None, work: Callable[[Any], T]) -> T:
    """Run ``work(session)`` in one transaction; domain errors are exit status 1."""
    from .lifecycle import LifecycleError
    from .notices import NoticeError

    return transaction(url, work, refused=(LifecycleError, NoticeError))


def _zones(session) -> dict[str, ZoneInfo]:
    from sqlalchemy import select

    from ..store.models import Jurisdiction

    zones = {}
    for ori, name in session.execute(select(Jurisdiction.ori, Jurisdiction.timezone)):
        try:
            zones[ori] = ZoneInfo(name)
        except (ValueError, KeyError, OSError):
            zones[ori] = ZoneInfo("UTC")
    return zones


def _fmt(value: datetime | None, zone: ZoneInfo | None = None) -> str:
    if value is None:
        return "-"
    local = value.astimezone(zone or UTC)
    return local.strftime("%Y-%m-%d %H:%M %Z")


def _span(delta: timedelta) -> str:
    minutes = int(abs(delta).total_seconds() // 60)
    text = f"{minutes // 60}h {minutes % 60:02d}m"
    return text if delta >= timedelta(0) else f"overdue {text}"


def _detainer_zone(session, detainer_id: int) -> str:
    from ..store.models import Detainer
    from .lifecycle import DetainerNotFoundError, facility_zone

    d = session.get(Detainer, detainer_id)
    if d is None:
        raise DetainerNotFoundError(f"detainer {detainer_id} does not exist")
    return facility_zone(session, d.ori)


def _detainer_row(d, zone: ZoneInfo | None, now: datetime | None = None) -> dict[str, Any]:
    """A detainer as a record: UTC ISO times for json/csv, local text for the table."""
    row = {
        "id": d.id, "case_id": d.case_id, "ori": d.ori, "kind": d.kind.value,
        "state": d.state.value,
        "release_eligible_at": d.release_eligible_at.isoformat() if d.release_eligible_at else None,
        "hold_until": d.hold_until.isoformat() if d.hold_until else None,
        "timezone": str(zone) if zone else None,
        "release_eligible_local": _fmt(d.release_eligible_at, zone),
        "hold_until_local": _fmt(d.hold_until, zone),
    }  # fmt: skip
    if now is not None:
        row["remaining"] = _span(d.hold_until - now) if d.hold_until is not None else None
    return row


_DETAINER_COLUMNS = [
    Col("id"), Col("case_id", "case", ident=True), Col("ori", ident=True), Col("kind"),
    Col("state"), Col("release_eligible_local", "release-eligible"),
    Col("hold_until_local", "hold until"),
]  # fmt: skip


def _emit_detainers(rows, zones, fmt: Format, title: str, now=None, empty=None) -> None:
    records = [_detainer_row(d, zones.get(d.ori), now) for d in rows]
    columns = _DETAINER_COLUMNS + ([Col("remaining")] if now is not None else [])
    emit_rows(records, columns, fmt, title=title, empty=empty)


def _state_line(d) -> None:
    out.print(f"detainer {d.id}: {d.kind.value}, case {d.case_id}, {d.ori} -> [bold]{d.state}[/]")


# --------------------------------------------------------------------------- detainers


@detainers_app.command("due")
def due_command(
    within: Annotated[str, typer.Option("--within", help="Window, e.g. 4h, 90m, 1d.")] = "4h",
    ori: OriOpt = None,
    now: Annotated[
        str | None, typer.Option("--now", help="Reference time with offset (default: now).")
    ] = None,
    url: UrlOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Holds ending within the window, soonest first (overdue holds first of all)."""
    from .lifecycle import due

    try:
        window = parse_duration(within)
    except ValueError as exc:
        fail(f"--within: {exc}")
    at = _aware_now(now, "--now")

    def work(session):
        rows = due(session, within=window, now=at, ori=ori)
        _emit_detainers(rows, _zones(session), fmt, f"Holds ending within {within}", at,
                        empty=f"No hold ends within {within} of {_fmt(at)}.")  # fmt: skip

    _run(url, work)


@detainers_app.command("list")
def list_command(
    state: Annotated[
        str | None,
        typer.Option("--state", help="pending_condition, active, holding, custody, lifted, "
                     "lapsed or expired."),
    ] = None,
    ori: OriOpt = None,
    limit: LimitOpt = 100,
    url: UrlOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:  # fmt: skip
    """Detainers by hold-until time (soonest first; not yet holding last)."""
    from ..store.models import DetainerState
    from ..store.repositories import list_detainers

    if state is not None and state not in {s.value for s in DetainerState}:
        fail(f"--state: {state!r} is not one of {', '.join(s.value for s in DetainerState)}")

    def work(session):
        rows = list_detainers(session, state=state, ori=ori, limit=limit)
        _emit_detainers(rows, _zones(session), fmt, "Detainers", empty="No detainers.")

    _run(url, work)


@detainers_app.command("show")
def show_command(
    detainer_id: Annotated[int, typer.Argument(help="Detainer id.", show_default=False)],
    url: UrlOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """A detainer with its events (times in the facility's local time)."""
    from ..store.models import Detainer
    from .lifecycle import DetainerNotFoundError, events

    def work(session):
        d = session.get(Detainer, detainer_id)
        if d is None:
            raise DetainerNotFoundError(f"detainer {detainer_id} does not exist")
        zone = _zones(session).get(d.ori)
        history = [
            {"id": e.id, "occurred_at": e.occurred_at.isoformat(), "event_type": e.event_type.value,
             "actor": e.actor, "details": e.details}
            for e in events(session, d.id)
        ]  # fmt: skip
        if fmt is Format.json:
            emit_document({**_detainer_row(d, zone), "events": history})
            return
        if fmt is Format.csv:
            emit_rows(history, [Col("id"), Col("occurred_at"), Col("event_type"), Col("actor")], fmt)
            return
        _emit_detainers([d], {d.ori: zone} if zone else {}, fmt, f"Detainer {d.id}")
        out.print("[bold]Events[/]")
        for event in events(session, d.id):
            out.print(
                f"#{event.id}  {_fmt(event.occurred_at, zone)}  [bold]{event.event_type.value}[/]"
                f"  by {event.actor}"
            )
            details = json.dumps(event.details, ensure_ascii=False, sort_keys=True)
            out.print(f"    {details}", markup=False)

    _run(url, work)


@detainers_app.command("release-eligible")
def release_eligible_command(
    detainer_id: Annotated[int, typer.Argument(help="Detainer id.", show_default=False)],
    at: Annotated[
        str, typer.Option("--at", help="When the subject would otherwise be released "
                          "(ISO 8601; no offset = facility local time).", show_default=False),
    ],
    actor: ActorOpt = "cli",
    url: UrlOpt = None,
) -> None:  # fmt: skip
    """The LEA reports the release-eligible time; the hold-until clock starts."""
    from .lifecycle import report_release_eligible

    def work(session):
        when = _local_time(at, _detainer_zone(session, detainer_id), "--at")
        d = report_release_eligible(session, detainer_id, at=when, actor=actor)
        _state_line(d)
        zone = _zones(session).get(d.ori)
        if d.hold_until is not None:
            out.print(f"hold until {d.hold_until.astimezone(zone).isoformat()} ({zone})")
        else:
            out.print("notification request: no hold; ICE notified of the release-eligible time")

    _run(url, work)


@detainers_app.command("custody")
def custody_command(
    detainer_id: Annotated[int, typer.Argument(help="Detainer id.", show_default=False)],
    at: Annotated[
        str | None, typer.Option("--at", help="When (default now; no offset = local time).")
    ] = None,
    actor: ActorOpt = "cli",
    url: UrlOpt = None,
) -> None:
    """ICE assumed custody of the subject."""
    from .lifecycle import assume_custody

    def work(session):
        when = _local_time(at, _detainer_zone(session, detainer_id), "--at")
        d = assume_custody(session, detainer_id, at=when, actor=actor)
        _state_line(d)
        _report_violation(session, d)

    _run(url, work)


@detainers_app.command("lift")
def lift_command(
    detainer_id: Annotated[int, typer.Argument(help="Detainer id.", show_default=False)],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the audit log).")],
    at: Annotated[
        str | None, typer.Option("--at", help="When (default now; no offset = local time).")
    ] = None,
    actor: ActorOpt = "cli",
    url: UrlOpt = None,
) -> None:
    """DHS lifts the detainer; the LEA is told."""
    from .lifecycle import lift

    def work(session):
        when = _local_time(at, _detainer_zone(session, detainer_id), "--at")
        _state_line(lift(session, detainer_id, at=when, actor=actor, reason=reason))

    _run(url, work)


@detainers_app.command("released")
def released_command(
    detainer_id: Annotated[int, typer.Argument(help="Detainer id.", show_default=False)],
    at: Annotated[
        str, typer.Option("--at", help="When the LEA released the subject (no offset = local "
                          "time).", show_default=False),
    ],
    actor: ActorOpt = "cli",
    url: UrlOpt = None,
) -> None:  # fmt: skip
    """The LEA released the subject; a release after hold-until is a recorded violation."""
    from .lifecycle import report_release

    def work(session):
        when = _local_time(at, _detainer_zone(session, detainer_id), "--at")
        d = report_release(session, detainer_id, released_at=when, actor=actor)
        _state_line(d)
        _report_violation(session, d)

    _run(url, work)


def _report_violation(session, d) -> None:
    from .lifecycle import events

    for event in reversed(events(session, d.id)):
        if event.details.get("violation") == "held_past_expiry":
            info = event.details
            out.print(
                f"[bold red]held past expiry[/]: {info['hours_beyond_limit']:g} counted hours "
                f"({info['elapsed_hours_beyond_limit']:g} elapsed) after hold-until "
                f"{info['hold_until_local']} - recorded for monitoring (IV rec. 5)"
            )
            return


@detainers_app.command("expire")
def expire_command(
    now: Annotated[
        str | None, typer.Option("--now", help="Reference time with offset (default: now).")
    ] = None,
    url: UrlOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Expire every hold whose hold-until time has passed without ICE custody."""
    from .lifecycle import expire_due

    at = _aware_now(now, "--now")

    def work(session):
        rows = expire_due(session, now=at)
        _emit_detainers(rows, _zones(session), fmt, f"Expired {len(rows)} hold(s)",
                        empty=f"No hold past its hold-until time at {_fmt(at)}.")  # fmt: skip

    _run(url, work)


@detainers_app.command("disposition")
def disposition_command(
    case_id: Annotated[str, typer.Argument(help="Case id.", show_default=False)],
    charge: Annotated[
        int, typer.Option("--charge", help="Charge number, from 0 in submission order.",
                          show_default=False),
    ],
    disposition: Annotated[
        str, typer.Option("--disposition", help="convicted, dismissed or acquitted.",
                          show_default=False),
    ],
    at: Annotated[
        str | None, typer.Option("--at", help="When (default now; no offset = local time).")
    ] = None,
    actor: ActorOpt = "cli",
    url: UrlOpt = None,
) -> None:  # fmt: skip
    """Record a charge disposition: a conviction activates a conditional detainer, a
    dismissal or acquittal lapses it."""
    from ..store.models import CaseRecord
    from .lifecycle import CaseNotFoundError, facility_zone, record_disposition

    if disposition not in ("convicted", "dismissed", "acquitted"):
        fail(f"--disposition: {disposition!r} is not convicted, dismissed or acquitted")
    if charge < 0:
        fail(f"--charge: {charge} is negative; charges are numbered from 0")

    def work(session):
        case = session.get(CaseRecord, case_id)
        if case is None:
            raise CaseNotFoundError(f"case {case_id!r} does not exist")
        when = _local_time(at, facility_zone(session, case.ori), "--at")
        changed = record_disposition(
            session, case_id=case_id, charge_index=charge, disposition=disposition, at=when,
            actor=actor,
        )  # fmt: skip
        out.print(f"case {case_id}: charge {charge} {disposition}")
        for d in changed:
            _state_line(d)
        if not changed:
            out.print("no detainer changed state")

    _run(url, work)


@detainers_app.command("violations")
def violations_command(
    ori: OriOpt = None, url: UrlOpt = None, fmt: FormatOpt = Format.table
) -> None:
    """Detentions past hold-until recorded so far (report IV rec. 5)."""
    from .lifecycle import violations

    def work(session):
        rows = violations(session, ori=ori)
        zones = _zones(session)
        records = []
        for d, event in rows:
            info = event.details
            zone = zones.get(d.ori)
            records.append({
                "detainer_id": d.id, "case_id": d.case_id, "ori": d.ori,
                "hold_until": info["hold_until"], "ended_at": info["ended_at"],
                "ended_by": info["ended_by"], "hours_beyond_limit": info["hours_beyond_limit"],
                "elapsed_hours_beyond_limit": info["elapsed_hours_beyond_limit"],
                "hold_until_local": _fmt(datetime.fromisoformat(info["hold_until"]), zone),
                "ended_local": _fmt(datetime.fromisoformat(info["ended_at"]), zone),
            })  # fmt: skip
        columns = [
            Col("detainer_id", "detainer"), Col("case_id", "case", ident=True),
            Col("ori", ident=True), Col("hold_until_local", "hold until"),
            Col("ended_local", "ended"), Col("ended_by", "by"),
            Col("hours_beyond_limit", "counted h", show=lambda v: f"{v:g}"),
            Col("elapsed_hours_beyond_limit", "elapsed h", show=lambda v: f"{v:g}"),
        ]  # fmt: skip
        emit_rows(records, columns, fmt, title="Held past expiry (IV rec. 5)",
                  empty="No held-past-expiry violation recorded.")  # fmt: skip

    _run(url, work)


# --------------------------------------------------------------------------- notices


@notices_app.command("list")
def notices_list_command(
    ori: OriOpt = None,
    case: Annotated[
        str | None, typer.Option("--case", help="Only this case.", show_default=False)
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", hidden=True, help="Same as --format json (kept for scripts).")
    ] = False,
    limit: LimitOpt = 100,
    url: UrlOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Notices sent to LEAs, oldest first."""
    from sqlalchemy import select

    from ..store.models import Notice

    def work(session):
        stmt = select(Notice)
        if ori is not None:
            stmt = stmt.where(Notice.ori == ori)
        if case is not None:
            stmt = stmt.where(Notice.case_id == case)
        rows = list(session.scalars(stmt.order_by(Notice.created_at, Notice.id).limit(limit)))
        records = [
            {
                "id": n.id, "ori": n.ori, "kind": n.kind.value, "case_id": n.case_id,
                "submission_id": n.submission_id, "detainer_id": n.detainer_id,
                "idempotency_key": n.idempotency_key, "created_at": n.created_at.isoformat(),
                "delivered_at": n.delivered_at.isoformat() if n.delivered_at else None,
                "event": n.content.get("event") or n.content.get("type") or "",
                "content": n.content,
            }
            for n in rows
        ]  # fmt: skip
        if as_json:  # the older --json: one object per line
            for record in records:
                typer.echo(json.dumps(record, ensure_ascii=False, sort_keys=True))
            return
        columns = [
            Col("id"), Col("created_at", "created", show=lambda v: _fmt(datetime.fromisoformat(v))),
            Col("ori", ident=True), Col("kind"), Col("case_id", "case", ident=True),
            Col("detainer_id", "detainer"), Col("event"),
            Col("delivered_at", "delivered",
                show=lambda v: _fmt(datetime.fromisoformat(v) if v else None)),
        ]  # fmt: skip
        emit_rows(records, columns, fmt, title="Notices", empty="No notices.")

    _run(url, work)


@notices_app.command("subject-text")
def subject_text_command(
    language: Annotated[
        str | None,
        typer.Option("--language", "-l", help="en, es, fr, pt, zh (zh_Hans) or vi; "
                     "default: all."),
    ] = None,
    kind: Annotated[
        str, typer.Option("--kind", help="detainer, conditional_detainer or "
                          "notification_request.")
    ] = "detainer",
) -> None:  # fmt: skip
    """The notice given to the detained person, with the hotline (a placeholder number)."""
    from . import notices

    try:
        if language is None:
            texts = notices.subject_notice_texts(kind)
        else:
            code = notices.normalize_language(language)
            texts = {code: notices.subject_notice_for(kind, code)}
    except notices.NoticeError as exc:
        fail(str(exc))
    for i, (code, text) in enumerate(texts.items()):
        if len(texts) > 1:
            out.print(("\n" if i else "") + f"[bold]== {code} ==[/]")
        out.print(text, markup=False)
    if notices.HOTLINE_IS_PLACEHOLDER:
        err.print(f"note: the hotline {notices.HOTLINE_NUMBER} is a synthetic placeholder")
