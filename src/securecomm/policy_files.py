"""Resolve ``--policy`` arguments: a built-in pack name, or a variant YAML file."""

from __future__ import annotations

from pathlib import Path

import yaml

from .law.model import Pack
from .law.packs import PACKS, VariantError, apply_variant


def load_policy(name_or_path: str) -> Pack:
    """A pack by name (``tfsc-2011``) or a variant file (``path/to/variant.yaml``)."""
    if name_or_path in PACKS:
        return PACKS[name_or_path]
    path = Path(name_or_path)
    if path.suffix.lower() not in (".yaml", ".yml") or not path.is_file():
        raise VariantError(
            f"policy: {name_or_path!r} is neither a pack ({', '.join(PACKS)}) nor a variant "
            "YAML file"
        )
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise VariantError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(spec, dict):
        raise VariantError(f"{path}: a variant file is a mapping (name, base, parameters ...)")
    try:
        return apply_variant(spec)
    except ValueError as exc:
        raise VariantError(f"{path}: {exc}") from None
