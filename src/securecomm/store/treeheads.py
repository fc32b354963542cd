"""Signed tree heads: Ed25519 keys, settings, the head document and the witness directory.

A *tree head* is the RFC 6962 Merkle root over the first ``tree_size`` audit entries. Signed,
and kept by someone outside the database (a witness directory on another machine, an oversight
office, the published monthly statistics), it lets anyone prove later that the log only grew:
``securecomm audit verify --since HEAD.json`` (an RFC 6962 section 2.1.2 consistency proof from
the kept head to the current one). A rewrite of the log, even with every hash recomputed, or a
truncation with the head row fixed up, then no longer matches.

What is signed
    The RFC 6962 section 3.5 ``TreeHeadSignature`` structure: ``version`` v1 (0),
    ``signature_type`` tree_hash (1), ``timestamp`` (uint64, milliseconds since the epoch),
    ``tree_size`` (uint64), ``sha256_root_hash`` (32 bytes) -- big-endian, concatenated --
    signed with Ed25519 (RFC 8032; the ``cryptography`` package), as RFC 9162 allows.
    ``key_id`` is the SHA-256 of the public key's DER SubjectPublicKeyInfo (the RFC 6962 log id).

The head document (JSON, one object)::

    {"log": "securecomm-audit", "tree_size": 1234, "root_hash": "<64 hex>",
     "timestamp": 1764860000123, "timestamp_iso": "2025-12-04T15:33:20.123000Z",
     "signature_algorithm": "Ed25519", "signature": "<base64>", "key_id": "<64 hex>",
     "public_key": "<base64 of the 32-byte raw key>"}

Settings (environment; validated, a bad value stops the writer with a message naming it)
    ``SECURECOMM_AUDIT_SIGNING_KEY``: the Ed25519 private key, a PEM (PKCS #8) file path or the
    PEM text itself; never in the repository (``securecomm audit keygen --out PATH``). A key
    file readable by group or others is refused. Without a key, tree heads are still taken and
    exported, unsigned.
    ``SECURECOMM_AUDIT_PUBLIC_KEY``: the public key heads are checked against (PEM file or text;
    default: the signing key's).
    ``SECURECOMM_AUDIT_CHECKPOINT_EVERY``: take a head every N entries (1..10,000,000; 1000).
    ``SECURECOMM_AUDIT_CHECKPOINT_MINUTES``: and at the first append M minutes after the last
    head (1..10,080; 60).
    ``SECURECOMM_AUDIT_WITNESS_DIR``: write every head there too, one JSON file per head
    (``tree-head-<size>.json``), after the transaction commits.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import struct
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .errors import AuditError
from .types import utc_iso

__all__ = [
    "ENV_CHECKPOINT_EVERY",
    "ENV_CHECKPOINT_MINUTES",
    "ENV_PUBLIC_KEY",
    "ENV_SIGNING_KEY",
    "ENV_WITNESS_DIR",
    "AuditConfigError",
    "AuditSettings",
    "SignedTreeHead",
    "generate_key",
    "key_id",
    "load_private_key",
    "load_public_key",
    "make_head",
    "settings",
    "sign",
    "signed_bytes",
    "write_witness",
]

ENV_SIGNING_KEY = "SECURECOMM_AUDIT_SIGNING_KEY"
ENV_PUBLIC_KEY = "SECURECOMM_AUDIT_PUBLIC_KEY"
ENV_CHECKPOINT_EVERY = "SECURECOMM_AUDIT_CHECKPOINT_EVERY"
ENV_CHECKPOINT_MINUTES = "SECURECOMM_AUDIT_CHECKPOINT_MINUTES"
ENV_WITNESS_DIR = "SECURECOMM_AUDIT_WITNESS_DIR"
LOG_NAME = "securecomm-audit"
EVERY_RANGE = (1, 10_000_000)
MINUTES_RANGE = (1, 10_080)
DEFAULT_EVERY = 1000
DEFAULT_MINUTES = 60


class AuditConfigError(AuditError, ValueError):
    """An audit setting cannot be used; the message names it (never a key)."""


# --------------------------------------------------------------------------- keys


def _pem_text(value: str, variable: str) -> bytes:
    """The PEM bytes a setting names: a file path, or the PEM text itself."""
    value = value.strip()
    if value.startswith("-----BEGIN"):
        return value.encode("ascii", "replace")
    path = Path(value).expanduser()
    if not path.is_file():
        raise AuditConfigError(f"{variable}: not a PEM key and no such file")
    if variable == ENV_SIGNING_KEY and os.name == "posix":
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise AuditConfigError(
                f"{variable}: the key file {path} is readable by group or others "
                f"(mode {stat.S_IMODE(mode):o}): chmod 600 it"
            )
    try:
        return path.read_bytes()
    except OSError as exc:
        raise AuditConfigError(f"{variable}: cannot read {path}: {exc.strerror}") from None


def load_private_key(value: str, variable: str = ENV_SIGNING_KEY) -> Ed25519PrivateKey:
    pem = _pem_text(value, variable)
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        raise AuditConfigError(f"{variable}: not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditConfigError(f"{variable}: an Ed25519 key is required")
    return key


def load_public_key(value: str, variable: str = ENV_PUBLIC_KEY) -> Ed25519PublicKey:
    pem = _pem_text(value, variable)
    try:
        if b"PRIVATE KEY" in pem:
            private = serialization.load_pem_private_key(pem, password=None)
            key = private.public_key()
        else:
            key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError):
        raise AuditConfigError(f"{variable}: not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise AuditConfigError(f"{variable}: an Ed25519 key is required")
    return key


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public: Ed25519PublicKey) -> str:
    """SHA-256 (hex) of the DER SubjectPublicKeyInfo: the RFC 6962 log id."""
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def generate_key(out: Path) -> tuple[Path, Path, str]:
    """Write a new Ed25519 private key (PEM, mode 0600) to ``out`` and its public key to
    ``out`` + ``.pub``; refuses to overwrite. -> (private path, public path, key id)."""
    if out.exists():
        raise AuditConfigError(f"--out: {out} exists; refusing to overwrite a key")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(private_pem)
    pub = out.with_name(out.name + ".pub")
    pub.write_bytes(public_pem)
    return out, pub, key_id(key.public_key())


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class AuditSettings:
    every: int = DEFAULT_EVERY
    minutes: int = DEFAULT_MINUTES
    signing_key: Ed25519PrivateKey | None = None
    public_key: Ed25519PublicKey | None = None
    witness_dir: Path | None = None


def _int_setting(env: dict[str, str], name: str, default: int, bounds: tuple[int, int]) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise AuditConfigError(f"{name}: {text[:40]!r} is not a whole number") from None
    lo, hi = bounds
    if not lo <= value <= hi:
        raise AuditConfigError(f"{name}: {value} is outside {lo}..{hi}")
    return value


_CACHE: dict[tuple, AuditSettings] = {}


def settings(env: dict[str, str] | None = None) -> AuditSettings:
    """The audit settings from the environment (see the module docstring), validated; cached
    per distinct set of values."""
    env = dict(os.environ if env is None else env)
    names = (ENV_SIGNING_KEY, ENV_PUBLIC_KEY, ENV_CHECKPOINT_EVERY, ENV_CHECKPOINT_MINUTES,
             ENV_WITNESS_DIR)  # fmt: skip
    cache_key = tuple(env.get(n, "") for n in names)
    cached = _CACHE.get(cache_key)
    if cached is not None:
        return cached
    every = _int_setting(env, ENV_CHECKPOINT_EVERY, DEFAULT_EVERY, EVERY_RANGE)
    minutes = _int_setting(env, ENV_CHECKPOINT_MINUTES, DEFAULT_MINUTES, MINUTES_RANGE)
    private = None
    if env.get(ENV_SIGNING_KEY, "").strip():
        private = load_private_key(env[ENV_SIGNING_KEY])
    public = None
    if env.get(ENV_PUBLIC_KEY, "").strip():
        public = load_public_key(env[ENV_PUBLIC_KEY])
    elif private is not None:
        public = private.public_key()
    if private is not None and public is not None and _raw(public) != _raw(private.public_key()):
        raise AuditConfigError(f"{ENV_PUBLIC_KEY}: is not the public key of {ENV_SIGNING_KEY}")
    witness = None
    if env.get(ENV_WITNESS_DIR, "").strip():
        witness = Path(env[ENV_WITNESS_DIR].strip()).expanduser()
        if witness.exists() and not witness.is_dir():
            raise AuditConfigError(f"{ENV_WITNESS_DIR}: {witness} is not a directory")
    result = AuditSettings(every, minutes, private, public, witness)
    _CACHE[cache_key] = result
    return result


# --------------------------------------------------------------------------- heads


def signed_bytes(tree_size: int, root_hash: str, timestamp_ms: int) -> bytes:
    """The RFC 6962 section 3.5 TreeHeadSignature input (v1, tree_hash)."""
    root = bytes.fromhex(root_hash)
    if len(root) != 32:
        raise ValueError("root_hash: 32 bytes (64 hex digits) expected")
    return struct.pack(">BBQQ", 0, 1, timestamp_ms, tree_size) + root


def timestamp_ms(when: datetime) -> int:
    return int(when.astimezone(UTC).timestamp() * 1000)


def sign(key: Ed25519PrivateKey, tree_size: int, root_hash: str, ts_ms: int) -> str:
    return base64.b64encode(key.sign(signed_bytes(tree_size, root_hash, ts_ms))).decode("ascii")


@dataclass(frozen=True)
class SignedTreeHead:
    tree_size: int
    root_hash: str
    timestamp: int  # milliseconds since the epoch (UTC)
    signature: str | None = None
    key_id: str | None = None
    public_key: str | None = None  # base64 of the raw 32-byte Ed25519 key

    @property
    def created_at(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp / 1000, UTC)

    def to_dict(self) -> dict[str, Any]:
        return {
            "log": LOG_NAME,
            "tree_size": self.tree_size,
            "root_hash": self.root_hash,
            "timestamp": self.timestamp,
            "timestamp_iso": utc_iso(self.created_at),
            "signature_algorithm": "Ed25519" if self.signature else None,
            "signature": self.signature,
            "key_id": self.key_id,
            "public_key": self.public_key,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, indent=2) + "\n"

    @classmethod
    def from_dict(cls, data: Any, where: str = "head") -> SignedTreeHead:
        if not isinstance(data, dict):
            raise ValueError(f"{where}: a JSON object expected")
        try:
            size = data["tree_size"]
            root = data["root_hash"]
            ts = data.get("timestamp")
        except KeyError as exc:
            raise ValueError(f"{where}: missing {exc.args[0]}") from None
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ValueError(f"{where}.tree_size: a whole number >= 0 expected")
        if not (
            isinstance(root, str) and len(root) == 64 and all(c in "0123456789abcdef" for c in root)
        ):
            raise ValueError(f"{where}.root_hash: 64 lower-case hex digits expected")
        if ts is None and isinstance(data.get("created_at"), str):  # an older checkpoint line
            ts = timestamp_ms(datetime.fromisoformat(data["created_at"].replace("Z", "+00:00")))
        if not isinstance(ts, int) or isinstance(ts, bool) or ts < 0:
            raise ValueError(f"{where}.timestamp: milliseconds since the epoch expected")
        sig = data.get("signature")
        return cls(size, root, ts, sig if isinstance(sig, str) and sig else None,
                   data.get("key_id"), data.get("public_key"))  # fmt: skip

    @classmethod
    def from_json(cls, text: str, where: str = "head") -> SignedTreeHead:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"{where}: not JSON ({exc.msg} at line {exc.lineno})") from None
        return cls.from_dict(data, where)

    def verify_signature(self, public: Ed25519PublicKey) -> bool:
        """Whether the head is signed by ``public`` (False when unsigned or malformed)."""
        if not self.signature:
            return False
        try:
            sig = base64.b64decode(self.signature, validate=True)
            public.verify(sig, signed_bytes(self.tree_size, self.root_hash, self.timestamp))
        except (InvalidSignature, ValueError):
            return False
        return True


def make_head(
    tree_size: int, root_hash: str, when: datetime, key: Ed25519PrivateKey | None
) -> SignedTreeHead:
    ts = timestamp_ms(when)
    if key is None:
        return SignedTreeHead(tree_size, root_hash, ts)
    public = key.public_key()
    return SignedTreeHead(
        tree_size, root_hash, ts, sign(key, tree_size, root_hash, ts), key_id(public),
        base64.b64encode(_raw(public)).decode("ascii"),
    )  # fmt: skip


def write_witness(directory: Path, head: SignedTreeHead) -> Path:
    """Write ``head`` to ``directory/tree-head-<size>.json`` atomically (created if needed)."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"tree-head-{head.tree_size:012d}.json"
    fd, tmp = tempfile.mkstemp(prefix=".tree-head-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(head.to_json())
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
