"""An in-memory stand-in with the interface of ``securecomm.users.service`` (the users
registry on branch h/store), used only while that package is not on this branch: the web tests
then run against it. When ``securecomm.users`` is importable the tests use the real registry
(see ``web_helpers.users_backend``)."""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass, replace

ROLES = ("lea", "lea_system", "ice_officer", "ice_supervisor", "crcl", "panel", "admin")


@dataclass(frozen=True)
class Principal:
    id: int
    name: str
    role: str
    jurisdictions: tuple[str, ...]
    areas: tuple[str, ...]
    disabled: bool


class UserError(ValueError):
    pass


class FakeUsers:
    def __init__(self) -> None:
        self.users: dict[str, Principal] = {}
        self.passwords: dict[str, str] = {}
        self.keys: dict[str, str] = {}

    @staticmethod
    def _key(name: str) -> str:
        return unicodedata.normalize("NFKC", name).casefold()

    def add_user(
        self, session, name, role, *, jurisdictions=(), areas=(), password=None, actor="test"
    ):
        if role not in ROLES:
            raise UserError(f"role: {role!r} is not a role")
        if self._key(name) in self.users:
            raise UserError(f"name: {name!r} exists")
        p = Principal(len(self.users) + 1, name, role, tuple(jurisdictions), tuple(areas), False)
        self.users[self._key(name)] = p
        if password is not None:
            self.passwords[self._key(name)] = hashlib.sha256(password.encode()).hexdigest()
        return p

    def get_user(self, session, name):
        p = self.users.get(self._key(name))
        return p if p is not None and not p.disabled else None

    def require_user(self, session, name, *, roles=None):
        p = self.get_user(session, name)
        if p is None or (roles and p.role not in roles):
            raise UserError(f"name: {name!r} is not an active user")
        return p

    def list_users(self, session):
        return sorted(self.users.values(), key=lambda p: p.name)

    def disable_user(self, session, name, *, actor="test"):
        p = replace(self.require_user(session, name), disabled=True)
        self.users[self._key(name)] = p
        return p

    def authenticate_password(self, session, name, password):
        p = self.get_user(session, name)
        stored = self.passwords.get(self._key(name))
        if p is None or stored is None:
            return None
        ok = secrets.compare_digest(stored, hashlib.sha256(password.encode()).hexdigest())
        return p if ok else None

    def issue_api_key(self, session, name, *, actor="test"):
        p = self.require_user(session, name)
        key = "sc_" + secrets.token_urlsafe(32)
        self.keys[hashlib.sha256(key.encode()).hexdigest()] = self._key(p.name)
        return key

    def authenticate_api_key(self, session, key):
        who = self.keys.get(hashlib.sha256(key.encode()).hexdigest())
        return self.get_user(session, self.users[who].name) if who else None

    @staticmethod
    def same_person(a: str, b: str) -> bool:
        return FakeUsers._key(a) == FakeUsers._key(b)
