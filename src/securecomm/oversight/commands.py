"""Oversight commands: ``complaints file|list|show|advance|assign|link|breaches|stats|status``,
``panel frame|draw|verify|size|case|finding|respond|report`` and ``oversight report|alerts``.
A thin Typer front over :mod:`securecomm.oversight` (the store URL and read sessions are the
pipeline commands').

``--as USER`` names the acting person, a registered user (``securecomm users add``) with the
role the step needs: ``crcl`` for complaints, ``panel`` for the panel's steps, ``ice_officer``
or ``ice_supervisor`` for ICE's responses.

Exit status: 0 done; 1 refused (an invalid transition, a draw that does not verify ...);
2 a usage or database error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from ..cli.preamble import DATA, Typer, UrlOpt, err, fail, open_engine, out, read_session

__all__ = ["complaints_app", "oversight_app", "panel_app", "register"]

complaints_app = Typer(help="Complaints to CRCL (IV rec. 4).")
panel_app = Typer(help="The independent panel's sample and findings (IV rec. 6).")
oversight_app = Typer(help="Adherence and detainer monitoring (II rec. 3, IV rec. 5).")

AsOpt = Annotated[str, typer.Option("--as", help="The acting user (audited).")]
FormatOpt = Annotated[str, typer.Option("--format", help="table or json.")]


def _fail(message: str, code: int = 2):
    fail(message, code)


def _say(text: str) -> None:
    """A line of output holding user text: printed as is, never read as console markup."""
    out.print(text, markup=False, highlight=False)


def _row(table: Table, *values: object) -> None:
    table.add_row(*(escape(str(v)) for v in values))


def _json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2, default=str) + "\n")


def _refusals() -> tuple[type[BaseException], ...]:
    from ..store.errors import StoreError
    from .access import AccessError
    from .complaints import ComplaintError
    from .panel import PanelError

    return (ComplaintError, PanelError, AccessError, StoreError)


def _write(url: str | None, fn, *args, **kwargs):
    """Run ``fn(session, ...)`` in one write transaction; refusals exit 1 with the message."""
    from ..store.db import session_factory

    engine = open_engine(url)
    try:
        with session_factory(engine)() as session, session.begin():
            return fn(session, *args, **kwargs)
    except _refusals() as exc:
        fail(str(exc), DATA)
    finally:
        engine.dispose()


def _read(url: str | None, fn, *args, **kwargs):
    engine = open_engine(url)
    try:
        with read_session(engine) as session:
            return fn(session, *args, **kwargs)
    except (*_refusals(), ValueError) as exc:
        fail(str(exc), DATA)
    finally:
        engine.dispose()


def _as(session, name: str, role: str) -> str:
    from .access import acting_user

    return acting_user(session, name, role=role)


def _format(fmt: str) -> str:
    if fmt not in ("table", "json"):
        _fail(f"--format: {fmt!r} is not table or json")
    return fmt


# --------------------------------------------------------------------------- complaints


def _parse_links(links: list[str]) -> list[tuple[str, str]]:
    out = []
    for item in links:
        kind, sep, ref = item.partition(":")
        if not sep or not ref:
            _fail(
                f"--link: {item!r} is not KIND:REF (booking:TCN, case:ID, detainer:ID, jurisdiction:ORI)"
            )
        out.append((kind, ref))
    return out


@complaints_app.command("file")
def complaints_file(
    category: Annotated[
        str,
        typer.Option(
            help="profiling_or_pretextual_arrest | us_citizen_held | "
            "held_past_detainer_limit | victim_or_witness_detained | "
            "language_access | other"
        ),
    ],
    channel: Annotated[
        str,
        typer.Option(
            help="phone | paper | email (CRCL staff, with --as), "
            "or web (the public form: no account)"
        ),
    ] = "phone",
    narrative: Annotated[str | None, typer.Option(help="What happened.")] = None,
    narrative_file: Annotated[
        Path | None, typer.Option(help="Read the narrative from a UTF-8 file.")
    ] = None,
    language: Annotated[str, typer.Option(help="en | es | fr | pt | zh_Hans | vi")] = "en",
    name: Annotated[str | None, typer.Option(help="The complainant's name (CRCL only).")] = None,
    contact: Annotated[str | None, typer.Option(help="How to reach them (CRCL only).")] = None,
    anonymous: Annotated[bool, typer.Option("--anonymous", help="No name, no contact.")] = False,
    link: Annotated[list[str] | None, typer.Option(help="KIND:REF, repeatable.")] = None,
    as_user: Annotated[
        str | None, typer.Option("--as", help="CRCL staff member (not for web).")
    ] = None,
    url: UrlOpt = None,
    fmt: FormatOpt = "table",
) -> None:
    """Record a complaint: CRCL staff for phone, paper or e-mail; --channel web is the public
    form (no account, a receipt code to check its status)."""
    from . import complaints as cm

    _format(fmt)
    if narrative_file is not None:
        if narrative is not None:
            _fail("--narrative and --narrative-file: give one")
        try:
            narrative = narrative_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            _fail(f"--narrative-file: cannot read {narrative_file}: {exc.__class__.__name__}")
    links = _parse_links(link or [])

    def run(session):
        if channel == "web":
            code = cm.file_public(session, category=category, language=language, narrative=narrative,
                                  name=None if anonymous else name,
                                  contact=None if anonymous else contact, links=links)  # fmt: skip
            return {"receipt_code": code}
        actor = _as(session, as_user or "", "crcl")
        c = cm.file_complaint(session, channel=channel, category=category, language=language,
                              narrative=narrative, name=name, contact=contact, anonymous=anonymous,
                              links=links, actor=actor)  # fmt: skip
        return {
            "complaint_id": c.id,
            "receipt_code": c.receipt_code,
            "stage_due_at": c.stage_due_at.isoformat(),
        }

    doc = _write(url, run)
    if fmt == "json":
        _json(doc)
    else:
        for k, v in doc.items():
            _say(f"{k}: {v}")


@complaints_app.command("status")
def complaints_status(
    receipt: Annotated[str, typer.Argument(help="The receipt code given at filing.")],
    url: UrlOpt = None,
    fmt: FormatOpt = "table",
) -> None:
    """What the complainant sees: stage, dates and the outcome (no account needed)."""
    from .complaints import public_status

    _format(fmt)
    doc = _read(url, public_status, receipt)
    if fmt == "json":
        _json(doc)
    else:
        for k, v in doc.items():
            _say(f"{k}: {v if v is not None else '-'}")


@complaints_app.command("list")
def complaints_list(
    stage: Annotated[str | None, typer.Option(help="Only this stage.")] = None,
    category: Annotated[str | None, typer.Option(help="Only this category.")] = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only complaints past their stage deadline.")
    ] = False,
    url: UrlOpt = None,
    fmt: FormatOpt = "table",
) -> None:
    """Complaints, newest first (never the complainant's identity or narrative)."""
    from .complaints import list_complaints

    _format(fmt)
    rows = _read(url, lambda s: list_complaints(s, stage=stage, category=category, overdue=overdue))
    if fmt == "json":
        _json(rows)
        return
    table = Table("id", "received", "channel", "category", "stage", "assigned to", "due", "overdue")
    for r in rows:
        _row(table, str(r["id"]), r["received_at"][:10], r["channel"], r["category"], r["stage"],
                      r["assigned_to"] or "-", (r["stage_due_at"] or "-")[:16], "yes" if r["overdue"] else "")  # fmt: skip
    out.print(table)


@complaints_app.command("show")
def complaints_show(
    complaint_id: Annotated[int, typer.Argument(help="The complaint number.")],
    as_user: AsOpt,
    url: UrlOpt = None,
    fmt: FormatOpt = "table",
) -> None:
    """A complaint and its timeline. Only a crcl user sees who complained and what they said;
    any other role gets a redacted view."""
    from .access import viewer
    from .complaints import view

    _format(fmt)

    def run(session):
        return view(session, complaint_id, role=viewer(session, as_user).role)

    doc = _read(url, run)
    if fmt == "json":
        _json(doc)
        return
    for k in ("id", "receipt_code", "channel", "category", "language", "stage", "assigned_to",
              "received_at", "stage_due_at", "outcome", "complainant", "narrative"):  # fmt: skip
        out.print(f"[bold]{k}[/]: " + escape(str(doc[k] if doc[k] is not None else "-")))
    for x in doc["links"]:
        _say(f"link: {x['kind']} {x['ref']}")
    table = Table("at (UTC)", "event", "from", "to", "actor", "details")
    for e in doc["events"]:
        _row(table, e["at"][:19], e["type"], e["stage_from"] or "", e["stage_to"] or "", e["actor"],
                      json.dumps(e["details"], ensure_ascii=False) if e["details"] else "")  # fmt: skip
    out.print(table)


@complaints_app.command("advance")
def complaints_advance(
    complaint_id: Annotated[int, typer.Argument(help="The complaint number.")],
    to: Annotated[
        str, typer.Option(help="acknowledged | investigating | resolved | referred | closed")
    ],
    as_user: AsOpt,
    outcome: Annotated[
        str | None, typer.Option(help="Public outcome statement (final stages).")
    ] = None,
    referred_to: Annotated[
        str | None, typer.Option(help="The body referred to (referred).")
    ] = None,
    url: UrlOpt = None,
) -> None:
    """Move a complaint to its next stage (invalid transitions are refused)."""
    from .complaints import advance

    def run(session):
        actor = _as(session, as_user, "crcl")
        c = advance(
            session, complaint_id, to, actor=actor, outcome=outcome, referred_to=referred_to
        )
        return c.stage.value, c.stage_due_at

    stage, due = _write(url, run)
    _say(f"complaint #{complaint_id}: {stage}" + (f", due {due.isoformat()}" if due else ""))


@complaints_app.command("assign")
def complaints_assign(
    complaint_id: Annotated[int, typer.Argument(help="The complaint number.")],
    to: Annotated[str, typer.Option(help="The investigator.")],
    as_user: AsOpt,
    url: UrlOpt = None,
) -> None:
    """Assign an acknowledged complaint (or reassign one assigned or under investigation)."""
    from .complaints import assign

    def run(session):
        c = assign(session, complaint_id, to, actor=_as(session, as_user, "crcl"))
        return c.stage.value

    _say(f"complaint #{complaint_id}: {_write(url, run)}, assigned to {to}")


@complaints_app.command("link")
def complaints_link(
    complaint_id: Annotated[int, typer.Argument(help="The complaint number.")],
    target: Annotated[
        str, typer.Argument(help="KIND:REF (booking:TCN, case:ID, detainer:ID, jurisdiction:ORI)")
    ],
    as_user: AsOpt,
    url: UrlOpt = None,
) -> None:
    """Link a complaint to a booking, case, detainer or jurisdiction (checked to exist)."""
    from .complaints import link

    ((kind, ref),) = _parse_links([target])
    added = _write(url, lambda s: link(s, complaint_id, kind, ref, actor=_as(s, as_user, "crcl")))
    _say(f"complaint #{complaint_id}: {'linked to' if added else 'already linked to'} {kind} {ref}")


@complaints_app.command("breaches")
def complaints_breaches(
    flag: Annotated[
        bool, typer.Option("--flag", help="Flag overdue complaints now (as the worker does).")
    ] = False,
    url: UrlOpt = None,
    fmt: FormatOpt = "table",
) -> None:
    """Stage deadlines breached (business days on the federal calendar), each recorded once."""
    import datetime as dt

    from .complaints import breaches, flag_breaches

    _format(fmt)
    if flag:
        new = _write(url, lambda s: flag_breaches(s, dt.datetime.now(dt.UTC)))
        err.print(f"{len(new)} new breach(es) flagged")
    rows = _read(url, breaches)
    if fmt == "json":
        _json(rows)
        return
    table = Table("complaint", "category", "stage", "due", "flagged", "now in")
    for r in rows:
        _row(table, str(r["complaint_id"]), r["category"], r["stage"], (r["due_at"] or "")[:16],
                      r["flagged_at"][:16], r["current_stage"])  # fmt: skip
    out.print(table)


@complaints_app.command("stats")
def complaints_stats(url: UrlOpt = None, fmt: FormatOpt = "json") -> None:
    """Public outcome statistics: counts by category and stage, median business days per stage
    (counts 1-10 suppressed)."""
    from .complaints import outcome_statistics

    _format(fmt)
    doc = _read(url, outcome_statistics)
    if fmt == "json":
        _json(doc)
        return
    for section in ("by_category", "by_stage", "median_business_days_in_stage"):
        table = Table(section.replace("_", " "), "value")
        for k, v in doc[section].items():
            _row(table, k, "<=10 (suppressed)" if v is None and section != "median_business_days_in_stage"
                          else ("-" if v is None else str(v)))  # fmt: skip
        out.print(table)
    _say(doc["suppression"])


# --------------------------------------------------------------------------- panel


def _read_bytes(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        _fail(f"{what}: cannot read {path}: {exc.__class__.__name__}")


@panel_app.command("frame")
def panel_frame(
    period: Annotated[str, typer.Option(help="YYYY-Qn (e.g. 2012-Q3) or YYYY-MM.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the frame CSV.")],
    as_user: AsOpt,
    url: UrlOpt = None,
    fmt: FormatOpt = "table",
) -> None:
    """Export the sampling frame (every decided case of the period with its strata), record
    its SHA-256 with the audit log's tree head, and print both: publish them before the seed
    exists."""
    from ..store.treeheads import AuditConfigError, settings
    from .panel import build_frame, publish_frame

    try:
        audit_settings = settings()
    except AuditConfigError as exc:
        _fail(str(exc))

    _format(fmt)

    def run(session):
        actor = _as(session, as_user, "panel")
        frame = build_frame(session, period)
        return frame, publish_frame(session, frame, actor=actor, key=audit_settings.signing_key,
                                    witness_dir=audit_settings.witness_dir)  # fmt: skip

    frame, doc = _write(url, run)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(frame.csv_bytes)
    except OSError as exc:
        _fail(f"--output: cannot write {output}: {exc.__class__.__name__}")
    if fmt == "json":
        _json({**doc, "frame": str(output)})
        return
    head = doc["tree_head"]
    _say(f"frame: {output} ({doc['cases']} cases, {period})")
    _say(f"frame SHA-256: {doc['frame_sha256']}")
    _say(f"audit tree head: size {head['tree_size']} root {head['root_hash']} "
              f"signature {head['signature'] or '(unsigned: set SECURECOMM_AUDIT_SIGNING_KEY)'}")  # fmt: skip


def _prior_rates(path: Path | None) -> dict[str, float] | None:
    if path is None:
        return None
    import csv

    rates = {}
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            for line, row in enumerate(csv.DictReader(fh), start=2):
                try:
                    rates[row["stratum"]] = float(row["rate"])
                except (KeyError, TypeError, ValueError):
                    _fail(
                        f"--prior-rates: line {line}: columns stratum,rate with a number expected"
                    )
    except OSError as exc:
        _fail(f"--prior-rates: cannot read {path}: {exc.__class__.__name__}")
    return rates


@panel_app.command("draw")
def panel_draw(
    frame: Annotated[Path, typer.Option(help="The published frame CSV.")],
    seed: Annotated[str, typer.Option(help="The public seed (e.g. 20 rolled dice).")],
    size: Annotated[int, typer.Option(help="Cases to draw.")],
    stratify_by: Annotated[
        list[str] | None, typer.Option(help="A stratum column, repeatable.")
    ] = None,
    allocation: Annotated[str, typer.Option(help="proportional | neyman")] = "proportional",
    prior_rates: Annotated[
        Path | None, typer.Option(help="Neyman: CSV stratum,rate of anticipated defect rates.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the draw here too.")
    ] = None,
    record: Annotated[
        bool, typer.Option("--record", help="Store the draw for review (needs --as).")
    ] = False,
    as_user: Annotated[
        str | None, typer.Option("--as", help="Panel member recording the draw.")
    ] = None,
    url: UrlOpt = None,
    fmt: FormatOpt = "json",
) -> None:
    """Draw the sample with Rivest's consistent sampler: the first N cases in SHA-256 ticket
    order (per stratum). Anyone can reproduce it from the frame and the seed."""
    from .panel import PanelError, draw, record_draw

    _format(fmt)
    data = _read_bytes(frame, "--frame")
    try:
        doc = draw(data, seed=seed, size=size, stratify_by=stratify_by or (), allocation=allocation,
                   prior_rates=_prior_rates(prior_rates))  # fmt: skip
    except PanelError as exc:
        _fail(str(exc), 1)
    if record:
        if not as_user:
            _fail("--record needs --as (the panel member recording the draw)")
        d = _write(url, lambda s: record_draw(s, data, doc, actor=_as(s, as_user, "panel")))
        doc = {**doc, "draw_id": d.id}
        err.print(f"recorded as draw #{doc['draw_id']}")
    if output is not None:
        output.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    if fmt == "json":
        _json(doc)
        return
    table = Table("#", "case_id", "stratum", "ticket")
    for s in doc["sample"]:
        _row(table, str(s["position"]), s["case_id"], s["stratum"], s["ticket"])
    out.print(table)
    _say(f"sample SHA-256: {doc['sample_sha256']}")


@panel_app.command("verify")
def panel_verify(
    frame: Annotated[Path, typer.Option(help="The published frame CSV.")],
    draw_file: Annotated[
        Path, typer.Option("--draw", help="The draw JSON (panel draw --format json).")
    ],
) -> None:
    """Recompute the draw from the frame and its seed and compare (exit 1 on any difference)."""
    from .panel import PanelError, load_draw_document, verify

    try:
        doc = load_draw_document(_read_bytes(draw_file, "--draw"))
        ok, problems = verify(_read_bytes(frame, "--frame"), doc)
    except PanelError as exc:
        _fail(str(exc), 1)
    if not ok:
        for p in problems:
            err.print(f"[bold red]mismatch:[/] {p}")
        raise typer.Exit(1)
    _say(f"ok: {len(doc['sample'])} cases reproduced from the frame (SHA-256 "
              f"{doc['frame_sha256']}) and seed {doc['seed']!r}")  # fmt: skip


@panel_app.command("size")
def panel_size(
    confidence: Annotated[float, typer.Option(help="e.g. 0.95")] = 0.95,
    defect_rate: Annotated[
        float | None, typer.Option(help="See at least one case if this share is defective.")
    ] = None,
    margin: Annotated[float | None, typer.Option(help="Estimate a share within +- this.")] = None,
    population: Annotated[
        int | None, typer.Option(help="Frame size (finite-population correction for --margin).")
    ] = None,
) -> None:
    """Sample size: --defect-rate 0.05 --confidence 0.95 -> 59; --margin 0.05 -> 385."""
    from .panel import PanelError, size_for_detection, size_for_margin

    if (defect_rate is None) == (margin is None):
        _fail("give one of --defect-rate or --margin")
    try:
        n = (size_for_detection(defect_rate, confidence) if defect_rate is not None
             else size_for_margin(margin, confidence, population))  # fmt: skip
    except PanelError as exc:
        _fail(str(exc))
    out.print(str(n))


@panel_app.command("case")
def panel_case(
    draw_id: Annotated[int, typer.Argument(help="The recorded draw.")],
    pseudonym: Annotated[str, typer.Argument(help="The case's pseudonym in the draw (P-...).")],
    as_user: AsOpt,
    url: UrlOpt = None,
) -> None:
    """A sampled case, de-identified, with its review checklist (JSON)."""
    from .panel import deidentified_case

    def run(session):
        _as(session, as_user, "panel")
        return deidentified_case(session, draw_id, pseudonym)

    _json(_read(url, run))


@panel_app.command("cases")
def panel_cases(
    draw_id: Annotated[int, typer.Argument(help="The recorded draw.")],
    as_user: AsOpt,
    url: UrlOpt = None,
) -> None:
    """The pseudonyms of a recorded draw, in sampling order, with their review status."""
    from .panel import findings_report

    def run(session):
        _as(session, as_user, "panel")
        return findings_report(session, draw_id).rows

    seen = []
    for r in _read(url, run):
        if r["pseudonym"] not in seen:
            seen.append(r["pseudonym"])
            sys.stdout.write(f"{r['position']}\t{r['pseudonym']}\t{r['stratum']}\t{r['finding']}\n")


@panel_app.command("finding")
def panel_finding(
    draw_id: Annotated[int, typer.Argument(help="The recorded draw.")],
    pseudonym: Annotated[str, typer.Argument(help="The case's pseudonym.")],
    answer: Annotated[
        list[str], typer.Option(help="ITEM=yes|no|n/a for every checklist item, repeatable.")
    ],
    finding: Annotated[str, typer.Option(help="adherent | deviation | unable_to_determine")],
    as_user: AsOpt,
    note: Annotated[str | None, typer.Option(help="The panel's note (published).")] = None,
    url: UrlOpt = None,
) -> None:
    """Record a panel member's finding on a sampled case (audited)."""
    from .panel import record_finding

    answers = {}
    for a in answer:
        key, sep, value = a.partition("=")
        if not sep:
            _fail(f"--answer: {a!r} is not ITEM=yes|no|n/a")
        answers[key] = value
    f = _write(url, lambda s: record_finding(s, draw_id, pseudonym, reviewer=_as(s, as_user, "panel"),
                                            answers=answers, finding=finding, note=note))  # fmt: skip
    _say(f"finding #{f.id} recorded")


@panel_app.command("respond")
def panel_respond(
    finding_id: Annotated[int, typer.Argument(help="The finding answered.")],
    response: Annotated[str, typer.Option(help="ICE's response.")],
    as_user: AsOpt,
    corrective_action: Annotated[
        bool, typer.Option("--corrective-action", help="ICE takes corrective action.")
    ] = False,
    url: UrlOpt = None,
) -> None:
    """Record ICE's response to a finding (tracked in the findings report)."""
    from .panel import record_response

    r = _write(url, lambda s: record_response(s, finding_id, responder=_as(s, as_user, "ice"),
                                             response=response, corrective_action=corrective_action))  # fmt: skip
    _say(f"response #{r.id} recorded")


@panel_app.command("report")
def panel_report(
    draw_id: Annotated[int, typer.Option("--draw", help="The recorded draw.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for the HTML and CSV files.")],
    url: UrlOpt = None,
) -> None:
    """Write the panel's findings report (HTML + CSV): public, pseudonyms only."""
    from .panel import findings_report, write_findings_report

    report = _read(url, findings_report, draw_id)
    try:
        paths = write_findings_report(report, out_dir)
    except OSError as exc:
        _fail(f"--out: cannot write {out_dir}: {exc.__class__.__name__}")
    _say(f"wrote {paths['html']}")


# --------------------------------------------------------------------------- monitoring


@oversight_app.command("report")
def oversight_report(
    month: Annotated[str, typer.Option(help="YYYY-MM")],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for the HTML and CSV files.")],
    url: UrlOpt = None,
) -> None:
    """The monthly oversight report (HTML + CSV, small cells protected): overrides, safeguard
    overrides and supervisor approvals, time to decision per field office and officer; holds
    past the limit and citizens' detainers lifted per jurisdiction."""
    from .adherence import monthly_report
    from .render import write_adherence

    report = _read(url, monthly_report, month)
    try:
        paths = write_adherence(report.protected(), out_dir)
    except OSError as exc:
        _fail(f"--out: cannot write {out_dir}: {exc.__class__.__name__}")
    _say(f"wrote {paths['html']}")


@oversight_app.command("alerts")
def oversight_alerts(
    as_user: AsOpt,
    days: Annotated[int, typer.Option(help="Look back this many days.")] = 30,
    url: UrlOpt = None,
    fmt: FormatOpt = "table",
) -> None:
    """What the CRCL portal shows now: holds past the limit, citizens' detainers, overdue
    complaints, decisions waiting for a supervisor, unanswered panel deviations."""
    from .adherence import alerts

    _format(fmt)

    def run(session):
        _as(session, as_user, "crcl")
        return alerts(session, days=days)

    rows = _read(url, run)
    if fmt == "json":
        _json(rows)
        return
    table = Table("severity", "kind", "at", "message", "source")
    for a in rows:
        _row(table, a["severity"], a["kind"], a["at"][:16], a["message"], a["source"])
    out.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(complaints_app, name="complaints")
    app.add_typer(panel_app, name="panel")
    app.add_typer(oversight_app, name="oversight")
