#!/usr/bin/env bash
# The whole test suite (README's test command). Sets up .venv first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/ruff check src tests benchmarks
.venv/bin/python -m pytest "$@"
