"""Errors raised by the store. Every input error names the field it is about."""

from __future__ import annotations


class StoreError(Exception):
    """Base class of the store's own errors."""


class InputError(StoreError, ValueError):
    """A value cannot be stored as given; ``field`` names it (dotted path for JSON)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class ConflictError(StoreError):
    """An idempotent write was repeated with different content (never silently overwritten)."""


class TcnConflictError(ConflictError):
    """Same transaction control number (TCN), different payload."""

    def __init__(self, tcn: str, existing_sha256: str, new_sha256: str) -> None:
        self.tcn = tcn
        self.existing_sha256 = existing_sha256
        self.new_sha256 = new_sha256
        super().__init__(
            f"tcn {tcn!r}: already submitted with a different payload "
            f"(stored sha256 {existing_sha256[:12]}…, new {new_sha256[:12]}…); "
            "a TCN is never reused and a submission is never overwritten"
        )


class NotFoundError(StoreError, LookupError):
    """A referenced row does not exist."""


class AuditError(StoreError):
    """The audit log cannot take an entry as given, or cannot be checkpointed."""
