"""Reading Case v1 documents: JSON Lines, one JSON object, or a JSON array.

Every input item comes back — valid with its Case, or invalid with errors that name the field
— so callers can decide the valid ones and keep the rejected ones with their reasons.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from pydantic import ValidationError

from .jsonsafety import iter_json_items
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
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        # a value no validator expected (e.g. a number too large to convert): this case only
        item.errors = [
            {"field": "(document)", "message": f"unreadable value ({type(exc).__name__})"}
        ]
    return item


def iter_case_inputs(stream: IO[str] | IO[bytes]) -> Iterator[CaseInput]:
    """Items of a case file in input order: JSON Lines read line by line whatever the first
    line holds; one JSON object or array only if the file starts with ``{`` or ``[`` and
    parses whole (:func:`securecomm.jsonsafety.iter_json_items`). A line longer than
    :data:`MAX_LINE_CHARS` is refused while reading, never held whole."""
    for item in iter_json_items(stream, max_line=MAX_LINE_CHARS):
        text = item.text
        if not item.ok:
            assert item.error is not None
            kept = text if len(text) <= 200 else text[:200] + "…"
            yield CaseInput(item.number, kept, errors=[
                {"field": "(document)", "message": item.error.message}
            ])  # fmt: skip
            continue
        yield parse_case(item.value, item.number, text)
