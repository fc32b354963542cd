"""The ``securecomm`` command line (entry point ``securecomm.cli:main``).

Kept light on purpose: the command modules (``interop/commands.py``, ``store/commands.py`` ...)
import :mod:`securecomm.cli.preamble`, which imports this package first; building the Typer
application here would import them back half-initialised. ``app`` is therefore built on first
use (:mod:`securecomm.cli.main`).
"""

from __future__ import annotations

from typing import Any

__all__ = ["app", "main"]


def main() -> None:
    """Run the command line (the ``securecomm`` console script)."""
    from .main import main as run

    run()


def __getattr__(name: str) -> Any:
    if name == "app":
        from .main import app

        return app
    raise AttributeError(name)
