#!/usr/bin/env bash
# The main job (README's first command): a synthetic nation through the whole system.
# Sets up .venv first; writes out/demo/ (index.html, monthly statistics, comparison, pipeline run).
# Extra arguments go to `securecomm demo` (e.g. --scale national, --policy pep-2014).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/securecomm demo "$@"
