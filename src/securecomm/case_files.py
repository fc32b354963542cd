"""Reading Case v1 documents: one JSON object, a JSON array, or JSON Lines.

Every input item comes back — valid with its Case, or invalid with errors that name the field
— so callers can decide the valid ones and keep the rejected ones with their reasons.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from pydantic import ValidationError

from .law.schema import Case

MAX_LINE_CHARS = 1_000_000  # a case file line larger than this is rejected, not parsed


@dataclass
class CaseInput:
    line: int  # 1-based line (JSON Lines) or item number (array / single document)
    text: str
    case: Case | None = None
    case_id: str | None = None
    errors: list[dict[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.case is not None

    def describe(self) -> str:
        who = f"case {self.case_id}" if self.case_id else "case (no case_id)"
        problems = "; ".join(f"{e['field']}: {e['message']}" for e in self.errors)
        return f"line {self.line}, {who}: {problems}"

    def rejected_record(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "case_id": self.case_id,
            "errors": self.errors,
            "input": self.text,
        }


def validation_errors(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(p) for p in err["loc"]) or "(document)", "message": err["msg"]}
        for err in exc.errors(include_url=False)
    ]


def parse_case(obj: Any, line: int, text: str) -> CaseInput:
    item = CaseInput(line=line, text=text)
    if isinstance(obj, dict) and isinstance(obj.get("case_id"), str):
        item.case_id = obj["case_id"][:64]
    if not isinstance(obj, dict):
        item.errors = [{"field": "(document)", "message": "a case is a JSON object"}]
        return item
    try:
        item.case = Case.model_validate(obj)
    except ValidationError as exc:
        item.errors = validation_errors(exc)
    return item


def _parse_text(text: str, line: int) -> CaseInput:
    if len(text) > MAX_LINE_CHARS:
        return CaseInput(line, text[:200] + "…", errors=[
            {"field": "(document)", "message": f"longer than {MAX_LINE_CHARS} characters"}
        ])  # fmt: skip
    try:
        obj = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        return CaseInput(
            line, text, errors=[{"field": "(document)", "message": f"invalid JSON: {exc}"}]
        )
    return parse_case(obj, line, text)


def iter_case_inputs(stream: TextIO) -> Iterator[CaseInput]:
    """Items of a case file in input order (format detected from the content)."""
    first, skipped = "", 0
    for raw in stream:
        skipped += 1
        if raw.strip():
            first = raw
            break
    if not first:
        return
    stripped = first.strip()
    if stripped.startswith("["):
        text = first + stream.read()
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            yield CaseInput(
                1, text[:200], errors=[{"field": "(document)", "message": f"invalid JSON: {exc}"}]
            )
            return
        for i, obj in enumerate(items, start=1):
            yield parse_case(obj, i, json.dumps(obj))
        return
    try:
        json.loads(stripped)
        single_line = True
    except json.JSONDecodeError:
        single_line = False
    if not single_line:  # one pretty-printed JSON document
        yield _parse_text(first + stream.read(), 1)
        return
    line_no = skipped
    yield _parse_text(stripped, line_no)
    for raw in stream:
        line_no += 1
        if raw.strip():
            yield _parse_text(raw.strip(), line_no)
