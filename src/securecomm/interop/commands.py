"""Pipeline commands: ``submit``, ``worker``, ``status``, ``world …``, ``ident …``,
``submissions list|retry`` and
``cases list|show|decide|approve|verify-identity|facts``. A thin Typer front over
:mod:`securecomm.interop` (heavy modules are imported inside the commands).

Register in the main CLI with ``register(app, cases_app)``. The database is ``--url`` or
``SECURECOMM_DATABASE_URL`` (default ``sqlite:///securecomm.db`` in the current directory);
pipeline settings come from ``SECURECOMM_PIPELINE_CONFIG`` / ``SECURECOMM_POLICY_SCHEDULE`` /
``SECURECOMM_DATA_DIR`` (:mod:`securecomm.interop.settings`).

Exit status: 0 done; 1 something was refused (a rejected booking line, a field-office step
that is not allowed, a failed submission); 2 a usage or database error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ..cli.preamble import (
    GuardedCommand,
    Typer,
    UrlOpt,
    err,
    fail,
    open_engine,
    open_input,
    out,
    read_session,
    rejected,
)
from ..cli.render import Col, Format, FormatOpt, emit_document, emit_rows

__all__ = ["register"]

world_app = Typer(help="Synthetic world for tests, demos and benchmarks.")
ident_app = Typer(help="Biometric galleries (IDENT and criminal history).")


def _engine(url: str | None, *, require_head: bool = True, writes: bool = False):
    return open_engine(url, require_head=require_head, create=not require_head, writes=writes)


def _settings(**overrides: Any):
    from .settings import SettingsError, load_settings

    try:
        settings = load_settings(**overrides)
        settings.schedule.check()
        return settings
    except SettingsError as exc:
        fail(str(exc))


def _open(path: str):
    return open_input(path, binary=True)


# --------------------------------------------------------------------------- submit


def submit(
    file: Annotated[str, typer.Argument(help="Booking submission v1 JSON Lines; - for stdin.")],
    url: UrlOpt = None,
    batch_size: Annotated[
        int, typer.Option(min=1, max=100_000, help="Lines per transaction.")
    ] = 2000,
    source: Annotated[str | None, typer.Option(help="Name recorded with rejected lines.")] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Submit bookings (idempotent on the TCN). Rejected lines are kept with their reasons in
    the rejected-input store and listed on stderr; exit 1 if any line was rejected."""
    from .intake import submit_bookings

    engine = _engine(url, writes=True)
    from ..store.db import session_factory

    src = source or ("submit:stdin" if file == "-" else f"submit:{Path(file).name}")[:64]
    try:
        with _open(file) as stream:
            report = submit_bookings(
                session_factory(engine), stream, source=src, batch_size=batch_size
            )
    finally:
        engine.dispose()
    for r in report.rejections[:50]:
        rejected(r.describe())
    if report.rejected > 50:
        err.print(
            f"... and {report.rejected - 50} more (securecomm keeps them all in the rejected store)"
        )
    if fmt is Format.json:
        emit_document(report.to_dict())
    elif fmt is Format.csv:
        emit_rows([report.to_dict()], [], fmt)
    else:
        out.print(
            f"{report.read} line(s) read: {report.accepted} accepted, {report.duplicates} "
            f"duplicate(s) of accepted TCNs, {report.rejected} rejected"
        )
    if report.rejected:
        raise typer.Exit(1)


# --------------------------------------------------------------------------- worker


def worker(
    url: UrlOpt = None,
    until_idle: Annotated[
        bool, typer.Option("--until-idle", help="Stop when nothing is left to do.")
    ] = False,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, max=100_000, help="Submissions per micro-batch.")
    ] = 500,
    auto_accept: Annotated[
        bool,
        typer.Option(
            "--auto-accept",
            help="Simulate officers accepting recommendations that need no supervisor "
            "(recorded as actor auto-accept): simulations and benchmarks only.",
        ),
    ] = False,
    max_batches: Annotated[
        int | None, typer.Option(min=1, help="Stop after N batches (N >= 1).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """Process submissions through the pipeline's stages in micro-batches.

    Each batch commits its stage's outputs and the submissions' transitions in one
    transaction; a killed worker resumes exactly where the last commit left off.
    SIGTERM / Ctrl-C finish the current batch and stop.
    """
    from .worker import Fault, run_worker, stage_counts

    try:
        Fault.from_env()  # test-only fault injection: a malformed value is a usage error
    except ValueError as exc:
        fail(str(exc))
    engine = _engine(url, writes=True)
    settings = _settings(auto_accept=True if auto_accept else None)
    from ..store.db import session_factory

    show = not quiet and err.is_terminal
    try:
        if show:
            report = _run_with_progress(engine, settings, batch_size, until_idle, max_batches)
        else:
            report = run_worker(
                engine, settings=settings, batch_size=batch_size, until_idle=until_idle,
                max_batches=max_batches, handle_signals=True,
            )  # fmt: skip
        with session_factory(engine)() as session:
            counts = stage_counts(session)
    finally:
        engine.dispose()
    total = sum(report.processed.values())
    if fmt is Format.json:
        emit_document({**report.to_dict(), "stages": counts})
    elif fmt is Format.csv:
        emit_rows([{**report.to_dict(), "stages": counts}], [], fmt)
    else:
        out.print(
            f"{report.batches} batch(es), {total} stage step(s) in {report.elapsed:.1f} s; "
            f"{report.failed} failed. Now: "
            + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        )
    if report.failed:
        raise typer.Exit(1)


def _run_with_progress(engine, settings, batch_size, until_idle, max_batches):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..store.db import session_factory
    from ..store.models import PipelineStage
    from .worker import run_worker, stage_counts

    with session_factory(engine)() as session:
        counts = stage_counts(session)
    parked = {PipelineStage.done.value, PipelineStage.verification.value, "failed"}
    if not settings.auto_accept:
        parked.add(PipelineStage.officer.value)
    pending = sum(v for k, v in counts.items() if k not in parked)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=False) as progress:
        task = progress.add_task("submissions settled", total=max(pending, 1))
        steps = progress.add_task("stage steps", total=None)

        def on_batch(stage, transitions) -> None:
            def settled(t) -> bool:
                if t.stage.value in parked or t.state.value == "failed":
                    return True
                # waiting for a person: every officer decision, or (simulated officers) one
                # that needs a supervisor, which the officer stage leaves where it is
                return t.stage is PipelineStage.officer and (
                    not settings.auto_accept or stage is PipelineStage.officer
                )

            done = sum(1 for t in transitions.values() if settled(t))
            progress.update(task, advance=done)
            progress.update(
                steps, advance=len(transitions), description=f"stage steps ({stage.value})"
            )

        return run_worker(
            engine, settings=settings, batch_size=batch_size, until_idle=until_idle,
            max_batches=max_batches, on_batch=on_batch, handle_signals=True,
        )  # fmt: skip


def status(url: UrlOpt = None, fmt: FormatOpt = Format.table) -> None:
    """Submissions per pipeline stage, open verification tasks, cases per state."""
    from sqlalchemy import func, select

    from ..store.models import CaseRecord, IdentityVerification, RejectedInput
    from .worker import stage_counts

    engine = _engine(url)
    try:
        with read_session(engine) as session:
            counts = stage_counts(session)
            cases = dict(
                session.execute(
                    select(CaseRecord.state, func.count()).group_by(CaseRecord.state)
                ).all()
            )
            tasks = dict(
                session.execute(
                    select(IdentityVerification.state, func.count()).group_by(
                        IdentityVerification.state
                    )
                ).all()
            )
            rejected = session.scalar(select(func.count()).select_from(RejectedInput)) or 0
    finally:
        engine.dispose()
    doc = {
        "submissions": counts,
        "cases": {k.value: v for k, v in cases.items()},
        "verification_tasks": {k.value: v for k, v in tasks.items()},
        "rejected_inputs": rejected,
    }
    if fmt is Format.json:
        emit_document(doc)
        return
    if fmt is Format.csv:
        rows = [
            {"section": title, "key": k, "count": v}
            for title, values in doc.items()
            for k, v in (sorted(values.items()) if isinstance(values, dict) else [("", values)])
        ]
        emit_rows(rows, [Col("section"), Col("key"), Col("count")], fmt)
        return
    for title, values in doc.items():
        if isinstance(values, dict):
            shown = ", ".join(f"{k} {v}" for k, v in sorted(values.items())) or "none"
        else:
            shown = str(values)
        out.print(f"[bold]{title.replace('_', ' ')}:[/] {shown}")


# --------------------------------------------------------------------------- world


@world_app.command("seed")
def world_seed(
    out_file: Annotated[Path, typer.Option("--out", "-o", help="Bookings JSON Lines to write.")],
    persons: Annotated[int, typer.Option(min=1, max=10_000_000, help="IDENT population.")] = 2000,
    bookings: Annotated[int, typer.Option(min=0, max=50_000_000, help="Bookings to draw.")] = 5000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same world).")] = 2011,
    fbi_only: Annotated[
        int | None, typer.Option(help="People only in the FBI's records (default persons/2).")
    ] = None,
    url: UrlOpt = None,
    biographic_model: Annotated[
        bool, typer.Option(help="Train the Splink model on the IDENT encounters (a few seconds).")
    ] = True,
) -> None:
    """Create the schema if needed, write a synthetic world's jurisdictions and IDENT / FBI
    repositories into the database, build the galleries, and write the bookings file (plus
    BOOKINGS.truth.jsonl, the ground truth). Synthetic data only."""
    from ..store.db import session_factory, upgrade
    from .synthetic_world import WorldExistsError, WorldSpec, generate_world, seed_world

    engine = _engine(url, require_head=False)
    try:
        upgrade(engine=engine)
        spec = WorldSpec(persons=persons, bookings=bookings, seed=seed, fbi_only=fbi_only)
        world = generate_world(spec)
        try:
            with session_factory(engine)() as session, session.begin():
                counts = seed_world(session, world)
        except WorldExistsError as exc:
            fail(str(exc), 1)
        path, truth = world.write_bookings(out_file)
        settings = _settings()
        built = _rebuild(engine, settings, biographic_model)
    finally:
        engine.dispose()
    out.print(", ".join(f"{k} {v}" for k, v in counts.items()))
    out.print(f"bookings: {path}  ground truth: {truth}")
    for line in built:
        out.print(line)


def _rebuild(engine, settings, train_biographic: bool) -> list[str]:
    from sqlalchemy.orm import Session

    from .adapters import agencies_for, gallery_paths

    agencies = agencies_for(engine.url, settings)
    lines = []
    with (
        engine.connect() as conn,
        Session(bind=conn.execution_options(sqlite_begin="DEFERRED")) as session,
    ):
        for gallery in agencies.galleries:
            info = gallery.rebuild(session)
            lines.append(f"gallery {info['table']}: {info['subjects']} subjects -> {info['path']}")
        if train_biographic:
            path = gallery_paths(
                settings.data_dir_for(engine.url), settings.file_prefix_for(engine.url)
            )["biographic"]
            n = _train_biographic(session, agencies, path)
            lines.append(f"biographic model: trained on {n} encounters -> {path}")
    return lines


def _train_biographic(session, agencies, path: Path) -> int:
    """Train the biographic model at ``path`` (kept for benchmarks/pipeline.py)."""
    immigration = agencies.immigration
    if Path(immigration.biographic_model) != path:
        raise ValueError(f"biographic model: {path} is not the configured {immigration.biographic_model}")
    return immigration.train_model(session)


# --------------------------------------------------------------------------- ident


@ident_app.command("rebuild")
def ident_rebuild(
    url: UrlOpt = None,
    biographic_model: Annotated[bool, typer.Option(help="Also retrain the Splink model.")] = False,
) -> None:
    """Rebuild the IDENT and criminal-history galleries from imm_biometrics / ch_biometrics."""
    engine = _engine(url)
    try:
        lines = _rebuild(engine, _settings(), biographic_model)
    finally:
        engine.dispose()
    for line in lines:
        out.print(line)


@ident_app.command("stats")
def ident_stats(url: UrlOpt = None, fmt: FormatOpt = Format.table) -> None:
    """Gallery files, sizes, freshness against the tables, and the match thresholds."""
    from sqlalchemy import func, select

    from ..identity.gallery import sidecar_path
    from .adapters import agencies_for, gallery_paths

    engine = _engine(url)
    settings = _settings()
    agencies = agencies_for(engine.url, settings)
    rows = []
    try:
        with read_session(engine) as session:
            for g in agencies.galleries:
                state = g._table_state(session)
                subjects = session.scalar(select(func.count(func.distinct(g.subject_col)))) or 0
                try:
                    saved = json.loads(g.state_path.read_text())
                    meta = json.loads(sidecar_path(g.path).read_text())
                except (OSError, ValueError):
                    saved, meta = None, {}
                rows.append(
                    {
                        "table": state["table"], "path": str(g.path), "templates": state["rows"],
                        "subjects": subjects, "gallery_count": meta.get("count"),
                        "index": meta.get("index_type"), "fresh": saved == state,
                    }
                )  # fmt: skip
    finally:
        engine.dispose()
    policy = settings.decision_policy
    paths = gallery_paths(settings.data_dir_for(engine.url), settings.file_prefix_for(engine.url))
    doc = {
        "galleries": rows,
        "match_threshold": policy.match_threshold,
        "verification_band_low": policy.verification_band_low,
        "rationale": policy.rationale,
        "min_template_quality": settings.min_template_quality,
        "biographic_model": str(paths["biographic"]) if paths["biographic"].is_file() else None,
    }
    if fmt is Format.json:
        emit_document(doc)
        return
    columns = [
        Col("table"), Col("templates"), Col("subjects"), Col("gallery_count", "in gallery"),
        Col("index"), Col("fresh", show=lambda v: "yes" if v else "no (rebuilt on next use)"),
        Col("path", "file", ident=True),
    ]  # fmt: skip
    emit_rows(rows, columns, fmt)
    if fmt is Format.csv:
        return
    out.print(
        f"match >= {policy.match_threshold}; verification band [{policy.verification_band_low}, "
        f"{policy.match_threshold}); usable template quality >= {settings.min_template_quality}"
    )
    out.print(f"rationale: {policy.rationale}")
    out.print(
        f"biographic model: {doc['biographic_model'] or '(none: biographic linkage finds nothing)'}"
    )


# --------------------------------------------------------------------------- cases


def cases_list(
    state: Annotated[
        str | None,
        typer.Option(help="open | awaiting_officer | awaiting_supervisor | acted | closed"),
    ] = None,
    ori: Annotated[str | None, typer.Option(help="Only this ORI.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 50,
    url: UrlOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Field-office worklist: cases oldest first, with the recommendation."""
    from ..store import repositories
    from ..store.models import CaseState, IdentityVerification

    if state is not None and state not in {s.value for s in CaseState}:
        fail(f"--state: one of {', '.join(s.value for s in CaseState)}")
    engine = _engine(url)
    rows = []
    try:
        with read_session(engine) as session:
            for case in repositories.list_cases(session, state=state, ori=ori, limit=limit):
                d = repositories.latest_decision(session, case.case_id)
                task = (
                    session.query(IdentityVerification)
                    .filter_by(case_id=case.case_id)
                    .one_or_none()
                )
                rows.append(
                    {
                        "case_id": case.case_id, "ori": case.ori, "state": case.state.value,
                        "opened_at": case.opened_at.isoformat(), "fin": case.fin,
                        "recommendation": d.action.value if d else None,
                        "policy": f"{d.policy} {d.policy_version}" if d else None,
                        "supervisor": bool(d and d.requires_supervisor_approval),
                        "verification": task.state.value if task else None,
                    }
                )  # fmt: skip
    finally:
        engine.dispose()
    columns = [
        Col("case_id", "case", ident=True), Col("ori", ident=True), Col("state"),
        Col("opened_at", "opened (UTC)", show=lambda v: v[:19]), Col("recommendation"),
        Col("policy"), Col("supervisor"), Col("verification", "identity", show=lambda v: v or ""),
    ]  # fmt: skip
    emit_rows(rows, columns, fmt, footer=f"{len(rows)} case(s)")


def _case_document(session, case_id: str) -> dict[str, Any]:
    from sqlalchemy import select

    from ..store import audit, repositories
    from ..store.models import Detainer, DetainerEvent, IdentityVerification, Notice, OfficerAction

    case = repositories.get_case(session, case_id)
    if case is None:
        fail(f"CASE_ID: no case {case_id!r}", 1)
    facts = repositories.list_case_facts(session, case_id)
    decisions = repositories.list_decisions(session, case_id)
    actions = session.scalars(
        select(OfficerAction)
        .where(OfficerAction.case_id == case_id)
        .order_by(OfficerAction.acted_at, OfficerAction.id)
    ).all()
    task = session.scalar(
        select(IdentityVerification).where(IdentityVerification.case_id == case_id)
    )
    detainers = session.scalars(
        select(Detainer).where(Detainer.case_id == case_id).order_by(Detainer.id)
    ).all()
    notices = session.scalars(
        select(Notice)
        .where(
            (Notice.case_id == case_id)
            | ((Notice.submission_id == case.submission_id) & (Notice.submission_id.is_not(None)))
        )
        .order_by(Notice.id)
    ).all()
    entries = []
    after = 0
    while True:
        page = audit.list_entries(session, case_id=case_id, after_seq=after, limit=500)
        entries += page
        if len(page) < 500:
            break
        after = page[-1].seq

    def iso(v):
        return v.isoformat() if v is not None else None

    return {
        "case_id": case.case_id,
        "ori": case.ori,
        "state": case.state.value,
        "program": case.program.value,
        "fin": case.fin,
        "submission_id": case.submission_id,
        "opened_at": iso(case.opened_at),
        "final_action": case.final_action.value if case.final_action else None,
        "final_action_at": iso(case.final_action_at),
        "final_officer_action_id": case.final_officer_action_id,
        "case": case.case_json,
        "facts": [
            {"id": f.id, "fact": f.fact, "value": f.value, "source": f.source,
             "recorded_by": f.recorded_by, "recorded_at": iso(f.recorded_at)}
            for f in facts
        ],
        "identity_verification": None if task is None else {
            "method": task.method.value, "state": task.state.value, "fin": task.fin,
            "score": task.score, "candidates": task.candidates, "reason": task.reason,
            "resolved_by": task.resolved_by, "resolved_at": iso(task.resolved_at),
        },
        "decisions": [
            {"id": d.id, "policy": d.policy, "policy_version": d.policy_version,
             "decided_at": iso(d.decided_at), "decision": d.decision}
            for d in decisions
        ],
        "officer_actions": [
            {"id": a.id, "kind": a.kind.value, "officer": a.officer,
             "chosen_action": a.chosen_action.value if a.chosen_action else None,
             "reason": a.reason, "acted_at": iso(a.acted_at)}
            for a in actions
        ],
        "detainers": [
            {"id": d.id, "kind": d.kind.value, "state": d.state.value, "issued_at": iso(d.issued_at),
             "release_eligible_at": iso(d.release_eligible_at), "hold_until": iso(d.hold_until),
             "events": [
                 {"type": e.event_type.value, "occurred_at": iso(e.occurred_at), "actor": e.actor}
                 for e in session.scalars(select(DetainerEvent).where(DetainerEvent.detainer_id == d.id).order_by(DetainerEvent.id))
             ]}
            for d in detainers
        ],
        "notices": [
            {"id": n.id, "kind": n.kind.value, "ori": n.ori, "created_at": iso(n.created_at),
             "idempotency_key": n.idempotency_key, "content": n.content}
            for n in notices
        ],
        "audit": [
            {"seq": e.seq, "recorded_at": iso(e.recorded_at), "actor": e.actor,
             "event_type": e.event_type, "subject": json.loads(e.subject)}
            for e in entries
        ],
    }  # fmt: skip


def cases_show(
    case_id: Annotated[str, typer.Argument(help="The case id (C-<TCN>).")],
    url: UrlOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """A case: the facts, the recommendation with its cited reasons, officer and supervisor
    actions, identity verification, detainers, notices and the case's audit entries."""

    engine = _engine(url)
    try:
        with read_session(engine) as session:
            doc = _case_document(session, case_id)
    finally:
        engine.dispose()
    if fmt is Format.json:
        emit_document(doc)
        return
    if fmt is Format.csv:  # the case's audit trail, one row per entry
        emit_rows(doc["audit"], [Col("seq"), Col("recorded_at"), Col("actor"), Col("event_type")], fmt)
        return
    c = doc["case"]
    person = c.get("person", {})
    out.print(
        f"[bold]{doc['case_id']}[/]  {doc['state']}  ORI {doc['ori']}  program {doc['program']}  FIN {doc['fin']}"
    )
    if doc["final_action"]:
        out.print(
            f"final action: {doc['final_action']} (officer action #{doc['final_officer_action_id']}, "
            f"{doc['final_action_at']})"
        )
    out.print(
        f"booked {c.get('decided_at')}; status {person.get('citizenship_status')}; "
        f"charges: "
        + "; ".join(
            f"{ch['ncic']} {ch.get('literal', '')} ({ch['severity']})"
            for ch in c.get("arrest", {}).get("charges", [])
        )
    )
    out.print(
        f"convictions: {len(c.get('convictions', []))}; flags: "
        + ", ".join(k for k, v in c.get("flags", {}).items() if v)
    )
    for f in doc["facts"]:
        out.print(
            f"[bold]fact[/] {f['fact']}={'true' if f['value'] else 'false'} - source: "
            f"{f['source']} (recorded by {f['recorded_by']} at {f['recorded_at']})"
        )
    v = doc["identity_verification"]
    if v:
        out.print(
            f"[bold]identity[/] {v['method']} {v['state']}: FIN {v['fin']} score {v['score']:.3f} - {v['reason']}"
        )
    for d in doc["decisions"]:
        dec = d["decision"]
        out.print(
            f"[bold]recommendation[/] ({d['policy']} {d['policy_version']}): {dec['action']}"
            f"{'  [supervisor approval required]' if dec['requires_supervisor_approval'] else ''}; "
            f"priority {dec['priority'] or '-'} {', '.join(dec['priority_bases'])}; LEA fields: {', '.join(dec['lea_disclosure']['fields']) or 'none'}"
        )
        for r in dec["reasons"]:
            out.print(f"  - {r['rule']}: {r['text']}  [{r['citation']}]")
    for a in doc["officer_actions"]:
        out.print(
            f"[bold]{a['kind']}[/] by {a['officer']} at {a['acted_at']}: {a['chosen_action'] or '-'}{' - ' + a['reason'] if a['reason'] else ''}"
        )
    for d in doc["detainers"]:
        out.print(
            f"[bold]{d['kind']}[/] #{d['id']} {d['state']} issued {d['issued_at']} hold until {d['hold_until'] or '-'}"
        )
    for n in doc["notices"]:
        out.print(f"[bold]notice[/] #{n['id']} {n['kind']} to {n['ori']} at {n['created_at']}")
    emit_rows(doc["audit"], [
        Col("seq"), Col("recorded_at", "recorded (UTC)", show=lambda v: v[:19]), Col("actor"),
        Col("event_type", "event"),
    ], fmt)  # fmt: skip


def _field_office(url: str | None, fn, *args, **kwargs):
    from ..store.db import session_factory
    from .field_office import FieldOfficeError, run_audited

    engine = _engine(url, writes=True)
    try:
        # a refused choice (a detainer against a citizen) is audited, then reported
        return run_audited(session_factory(engine), fn, *args, **kwargs)
    except FieldOfficeError as exc:
        fail(str(exc), 1)
    finally:
        engine.dispose()


def _print_outcome(outcome, fmt: Format) -> None:
    if fmt is not Format.table:
        _emit_outcome(outcome, fmt)
        return
    out.print(
        f"{outcome.case_id}: {outcome.state.value}"
        + (f" ({outcome.chosen_action})" if outcome.chosen_action else "")
    )
    for r in outcome.supervisor_reasons:
        out.print(f"  needs a supervisor: {r}")


def _emit_outcome(outcome, fmt: Format) -> None:
    if fmt is Format.json:
        emit_document(outcome.to_dict())
    else:
        emit_rows([outcome.to_dict()], [], fmt)


def cases_decide(
    case_id: Annotated[str, typer.Argument(help="The case id.")],
    officer: Annotated[
        str,
        typer.Option(
            "--as", "--officer",
            help="The deciding officer: a registered ice_officer or ice_supervisor (audited).",
        ),
    ],
    accept: Annotated[bool, typer.Option("--accept", help="Accept the recommendation.")] = False,
    override: Annotated[str | None, typer.Option(help="Override with this action instead.")] = None,
    reason: Annotated[str | None, typer.Option(help="Why (mandatory for an override).")] = None,
    url: UrlOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Accept the recommendation, or override it with a mandatory reason. An override that
    removes a safeguard (or any decision on a supervisor-flagged case) waits for a supervisor."""
    from .field_office import decide

    if accept == (override is not None):
        fail("give exactly one of --accept or --override ACTION")
    outcome = _field_office(
        url, decide, case_id, officer=officer, accept=accept, override=override, reason=reason
    )
    _print_outcome(outcome, fmt)


def cases_approve(
    case_id: Annotated[str, typer.Argument(help="The case id.")],
    supervisor: Annotated[
        str,
        typer.Option(
            "--as", "--supervisor",
            help="The approving supervisor: a registered ice_supervisor other than the officer.",
        ),
    ],
    deny: Annotated[bool, typer.Option("--deny", help="Deny instead (needs --reason).")] = False,
    reason: Annotated[str | None, typer.Option(help="Why.")] = None,
    url: UrlOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Approve (or deny) the officer decision waiting for a supervisor."""
    from .field_office import approve

    outcome = _field_office(url, approve, case_id, supervisor=supervisor, deny=deny, reason=reason)
    _print_outcome(outcome, fmt)


def cases_verify_identity(
    case_id: Annotated[str, typer.Argument(help="The case id.")],
    officer: Annotated[
        str,
        typer.Option(
            "--as", "--officer",
            help="The examining officer: a registered ice_officer or ice_supervisor (audited).",
        ),
    ],
    confirm: Annotated[
        bool | None,
        typer.Option("--confirm/--reject", help="Confirm or reject the candidate identity."),
    ] = None,
    reason: Annotated[str | None, typer.Option(help="Why.")] = None,
    url: UrlOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Confirm or reject a band, ambiguous or biographic identity match."""
    from .field_office import verify_identity

    if confirm is None:
        fail("give --confirm or --reject")
    outcome = _field_office(
        url, verify_identity, case_id, officer=officer, confirm=confirm, reason=reason
    )
    _print_outcome(outcome, fmt)


def cases_facts(
    case_id: Annotated[str, typer.Argument(help="The case id (C-<TCN>); may not exist yet.")],
    fact: Annotated[
        list[str],
        typer.Option(
            "--fact",
            help="NAME or NAME=false (repeatable): a Case v1 flag no repository holds, "
            "e.g. crime_victim, us_citizen_or_lpr_family.",
        ),
    ],
    source: Annotated[
        str, typer.Option(help="Who asserted it, e.g. 'Form I-918 Supplement B, APD'.")
    ],
    officer: Annotated[
        str,
        typer.Option(
            "--as", "--officer",
            help="The recording officer: a registered ice_officer or ice_supervisor (audited).",
        ),
    ],
    url: UrlOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Record facts the repositories do not hold (certifications, interview findings, the
    person's claim) and re-compute the recommendation while no officer has decided; a case
    not yet opened gets them when its booking is processed."""
    from .field_office import FieldOfficeError, parse_fact, record_facts

    facts: dict[str, bool] = {}
    for text in fact:
        try:
            name, value = parse_fact(text)
        except FieldOfficeError as exc:
            fail(f"--fact: {exc}")
        facts[name] = value
    settings = _settings()
    outcome = _field_office(
        url, record_facts, case_id, facts, source=source, officer=officer, settings=settings
    )
    if fmt is not Format.table:
        _emit_outcome(outcome, fmt)
        return
    recorded = ", ".join(f"{k}={'true' if v else 'false'}" for k, v in outcome.facts.items())
    out.print(f"{outcome.case_id}: recorded {recorded}")
    if outcome.state is None:
        out.print("  no case yet: the facts are used when the booking's case is assembled")
    elif outcome.recomputed:
        out.print(
            f"  recommendation re-computed: {outcome.previous_action} -> {outcome.action} "
            f"(decision #{outcome.decision_id}); case {outcome.state.value}"
        )
    else:
        out.print(f"  case {outcome.state.value}: the recommendation will use them")


# --------------------------------------------------------------------------- submissions

submissions_app = Typer(help="Submissions: list them, re-queue failed ones.")
_STATES = ("received", "processing", "completed", "failed")


def _submission_doc(row) -> dict[str, Any]:
    return {
        "id": row.id,
        "tcn": row.tcn,
        "ori": row.ori,
        "state": row.state.value,
        "stage": row.stage.value,
        "received_at": row.received_at.isoformat(),
        "state_changed_at": row.state_changed_at.isoformat(),
        "error": row.error,
    }


@submissions_app.command("list")
def submissions_list(
    state: Annotated[
        str | None, typer.Option("--state", help=f"Only this state: {', '.join(_STATES)}.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many (1-100000).")] = 100,
    url: UrlOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Submissions oldest first; --state failed shows the stage each failed in and why."""
    from ..store.repositories import list_submissions

    if state is not None and state not in _STATES:
        fail(f"--state: {state!r} is not one of {', '.join(_STATES)}")
    if not 1 <= limit <= 100_000:
        fail(f"--limit: {limit} is outside 1-100000")
    engine = _engine(url)
    try:
        with read_session(engine) as session:
            docs = [_submission_doc(r) for r in list_submissions(session, state=state, limit=limit)]
    finally:
        engine.dispose()
    columns = [
        Col("tcn", "TCN", ident=True), Col("ori", "ORI", ident=True), Col("state"), Col("stage"),
        Col("received_at", "received", show=lambda v: v[:19]),
        Col("error", show=lambda v: v or ""),
    ]  # fmt: skip
    emit_rows(docs, columns, fmt, footer=f"{len(docs)} submission(s)")


@submissions_app.command("retry")
def submissions_retry(
    tcn: Annotated[
        list[str] | None, typer.Option("--tcn", help="This submission (repeatable).")
    ] = None,
    all_failed: Annotated[
        bool, typer.Option("--all-failed", help="Every failed submission.")
    ] = False,
    actor: Annotated[
        str, typer.Option("--actor", help="Who re-queues them (audited).")
    ] = "operator",
    url: UrlOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Re-queue failed submissions in the stage they failed in (audited as
    submission.retried); the next `securecomm worker` run picks them up.

    Idempotent: a submission that is not failed is left alone and reported as such."""
    from ..store.errors import InputError, NotFoundError
    from ..store.repositories import retry_failed_submissions

    if bool(tcn) == all_failed:
        fail("give either --tcn T (one or more) or --all-failed")
    engine = _engine(url, writes=True)
    try:
        from ..store.db import session_factory

        with session_factory(engine)() as session, session.begin():
            try:
                done = retry_failed_submissions(session, tcns=tcn or None, actor=actor)
            except (InputError, NotFoundError) as exc:
                fail(str(exc))
            docs = [{**_submission_doc(r), "retried": retried} for r, retried in done]
    finally:
        engine.dispose()
    if fmt is not Format.table:
        emit_rows(docs, [Col("tcn"), Col("retried"), Col("state"), Col("stage")], fmt)
        return
    for d in docs:
        if d["retried"]:
            out.print(f"{d['tcn']}: re-queued in stage {d['stage']}")
        else:
            out.print(f"{d['tcn']}: not failed ({d['state']}, stage {d['stage']}): left alone")
    out.print(f"{sum(d['retried'] for d in docs)} submission(s) re-queued")


# --------------------------------------------------------------------------- register


def register(app: typer.Typer, cases_app: typer.Typer) -> None:
    """Add the pipeline commands to ``app`` and the field-office ones to ``cases_app`` (as
    guarded commands, whatever Typer class the host application is)."""
    guarded = {"cls": GuardedCommand}
    app.command("submit", **guarded)(submit)
    app.command("worker", **guarded)(worker)
    app.command("status", **guarded)(status)
    app.add_typer(world_app, name="world")
    app.add_typer(ident_app, name="ident")
    app.add_typer(submissions_app, name="submissions")
    cases_app.command("list", **guarded)(cases_list)
    cases_app.command("show", **guarded)(cases_show)
    cases_app.command("decide", **guarded)(cases_decide)
    cases_app.command("approve", **guarded)(cases_approve)
    cases_app.command("verify-identity", **guarded)(cases_verify_identity)
    cases_app.command("facts", **guarded)(cases_facts)
