#!/usr/bin/env bash
# The whole test suite (README's test command). Sets up .venv first.
# Runs in parallel on every core (pytest-xdist); extra arguments go to pytest, e.g.
#   bash scripts/test.sh -m "not slow and not spark"     # the fast tier for development
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/ruff check src tests benchmarks
.venv/bin/python -m pytest -n "${SECURECOMM_TEST_WORKERS:-auto}" "$@"
