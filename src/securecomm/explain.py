"""Human-readable renderings: a decision explained, a pack described, a what-if summarised."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from .law.engine import bind_pack
from .law.model import Pack
from .law.schema import Case, Decision

ACTION_WORDS = {
    "no_action": "No immigration enforcement action",
    "no_detainer": "No detainer (removable, withheld by policy)",
    "conditional_detainer": "Conditional detainer — operative only if convicted of the charge",
    "detainer": "Detainer",
    "notification_request": "Request for notice of release (no hold)",
}


def render_explanation(console: Console, pack: Pack, case: Case, d: Decision) -> None:
    head = [
        f"[bold]{ACTION_WORDS[d.action.value]}[/]",
        f"Case {d.case_id} under policy {d.policy} (version {d.policy_version}), "
        f"decided {case.decided_at.isoformat()}; program {case.program.value}; "
        f"jurisdiction {case.jurisdiction.ori} ({case.jurisdiction.state}).",
        f"Removable: {'yes' if d.removable else 'no'}.  "
        f"Priority: {d.priority or 'none'}{' (' + ', '.join(d.priority_bases) + ')' if d.priority_bases else ''}.  "
        f"Criminal level: {d.level or 'none'}.",
    ]  # fmt: skip
    decisive = d.decisive_rule
    if decisive is not None:
        # the citation follows under "Why this action"; the panel keeps to one short line each
        head.append(escape(f"Decided by {decisive.rule} (rank {decisive.rank})."))
        if decisive.safeguard:
            head.append(escape(f"Safeguard: {decisive.safeguard}."))
            head.append("A more severe override needs a supervisor (report IV rec. 2).")
    if d.requires_supervisor_approval:
        head.append("[yellow]A supervisor must approve this action.[/]")
    console.print(Panel("\n".join(head), title="Recommendation", expand=False))
    groups: dict[str, list] = {"Findings": [], "Why this action": [], "Also noted": [],
                               "Information to the police": [], "Discretion factors": []}  # fmt: skip
    kinds = {r.id: r.kind for r in pack.rules}
    for reason in d.reasons:
        kind = kinds.get(reason.rule, "finding")
        group = {
            "finding": "Findings", "priority": "Findings", "action": "Why this action",
            "supervisor": "Also noted", "suppression": "Information to the police",
            "disclosure": "Information to the police", "factor": "Discretion factors",
        }[kind]  # fmt: skip
        groups[group].append(reason)
    for title, reasons in groups.items():
        if not reasons:
            continue
        console.print(f"\n[bold]{title}[/]")
        for r in reasons:
            console.print(f"  • {r.text}", highlight=False)
            console.print(f"    [dim]{r.rule} — {r.citation}[/]", highlight=False)
    if not d.lea_disclosure.notify:
        console.print(
            "\n[bold]Information to the police[/]\n  • Nothing is sent to the arresting agency."
        )
    console.print(
        "\n[dim]Discretion factors are listed for the officer; they are never decided "
        "automatically (HSAC Task Force II rec. 2).[/]"
    )


def pack_summary(pack: Pack) -> dict[str, Any]:
    bound = bind_pack(pack)
    return {
        "name": pack.name,
        "version": pack.policy_version,
        "title": pack.title,
        "citation": pack.citation,
        "description": pack.description,
        "base": pack.base,
        "action_rules": [
            {
                "id": r.id,
                "rank": r.rank,
                "outcome": r.outcome,
                "citation": r.citation,
                "text": r.text,
                "safeguard": r.safeguard,
                "decline_reason": r.decline_reason,
            }
            for r in bound.action_rules
        ],
        "rules": [{"id": r.id, "kind": r.kind, "citation": r.citation} for r in pack.rules],
        "parameters": {
            name: {
                "value": p.value,
                "effective": p.effective,
                "kind": p.kind,
                "citation": p.citation,
                "rationale": p.rationale,
            }
            for name, p in sorted(pack.parameters.items())
        },
    }


def render_pack(console: Console, pack: Pack) -> None:
    console.print(Panel(f"[bold]{pack.title}[/]\n{pack.description}\nSource: {pack.citation}",
                        title=f"{pack.name} {pack.policy_version}", expand=False))  # fmt: skip
    actions = Table(
        "rank", "rule", "outcome", "source", title="Action rules (highest rank decides)"
    )
    for r in bind_pack(pack).action_rules:
        actions.add_row(str(r.rank), r.id, r.outcome, r.citation)
    console.print(actions)
    params = Table("parameter", "value", "kind", "since", "source", "rationale", title="Parameters")
    for name, p in sorted(pack.parameters.items()):
        value = p.value if not isinstance(p.value, tuple) or len(p.value) <= 6 else (
            f"{', '.join(p.value[:6])} … ({len(p.value)} codes)")  # fmt: skip
        params.add_row(name, str(value), p.kind, str(p.effective), p.citation, p.rationale)
    console.print(params)


def render_evaluation(console: Console, result: Any) -> None:
    """Summary of a bulk what-if (``bulk.evaluate.EvaluationResult``)."""
    short = {"no_action": "no action", "no_detainer": "no det.", "conditional_detainer": "cond.",
             "detainer": "detainer", "notification_request": "notif."}  # fmt: skip
    table = Table(title="Actions by policy")
    table.add_column("policy", no_wrap=True)
    for name in ("cases", "seconds", *(short[a] for a in ACTION_WORDS)):
        table.add_column(name, justify="right")
    for pack_result in result.packs:
        counts = pack_result.actions
        table.add_row(pack_result.policy, f"{pack_result.cases:,}", f"{pack_result.seconds:.2f}",
                      *(f"{counts.get(a, 0):,}" for a in ACTION_WORDS))  # fmt: skip
    console.print(table)
    paths = [p.decisions_path for p in result.packs]
    paths += [result.actions_by_policy_path, result.rule_counts_path, result.differences_path]
    console.print(
        f"{result.cases:,} cases, {result.differences:,} with different actions between "
        f"policies; {result.seconds:.1f} s ({result.engine})."
    )
    console.print("Outputs: " + ", ".join(str(p) for p in paths), highlight=False)


def render_demo(console: Console, result: Any) -> None:
    """Summary table of ``securecomm demo`` (``demo.DemoResult``)."""
    n = result.nation
    console.print(
        f"Nation: {n['bookings']:,} bookings {n['first_month']}..{n['last_month']} in "
        f"{n['jurisdictions_booking']:,} jurisdictions ({n['states']} states), "
        f"{n['ident_matches']:,} IDENT matches (seed {n['seed']}).",
        highlight=False,
    )
    table = Table(title="Four policies over the same caseload")
    table.add_column("figure", no_wrap=True)
    for row in result.comparison:
        table.add_column(row["policy"], justify="right")
    figures = (
        ("detainers", "detainers issued"),
        ("detainers_conditional", "  of which conditional"),
        ("notification_requests", "notification requests"),
        ("share_detainers_no_conviction", "on people with no conviction"),
        ("share_detainers_minor_traffic", "on minor-traffic-only arrests"),
        ("share_detainers_minor_traffic_no_priority", "  ... of people in no priority category"),
        ("share_detainers_protected", "on protected persons"),
        ("ice_custody", "ICE custody"),
        ("removals", "removals"),
    )
    for key, label in figures:
        cells = []
        for row in result.comparison:
            v = row.get(key)
            cells.append("n/a" if v is None else f"{v:.1%}" if key.startswith("share") else f"{v:,}")
        table.add_row(label, *cells)
    console.print(table)
    p = result.pipeline
    if p:
        console.print(
            f"Pipeline (SQLite, {result.config.policy}): {p['bookings']:,} bookings at "
            f"{p['bookings_per_second']:,.0f}/s; audit verified: {'yes' if p['audit_ok'] else 'NO'}; "
            f"decisions equal to bulk: {p['decisions_compared'] - p['decisions_disagreeing']:,} of "
            f"{p['decisions_compared']:,} ({p['disagreeing_unrepresentable']:,} differ on facts the "
            "pipeline cannot carry).",
            highlight=False,
        )
    times = ", ".join(f"{k} {v:.1f}s" for k, v in result.seconds.items())
    console.print(f"Stage times: {times}. Total {sum(result.seconds.values()):.1f} s.", highlight=False)
    console.print(f"Report: {result.paths['report']}", highlight=False)
