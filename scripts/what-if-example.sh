#!/usr/bin/env bash
# What-if on the bundled example caseload (the first main job): decide the bundled
# example caseload under the Task Force consensus pack, explain one case, and compare the four
# packs over the whole caseload in bulk. Sets up .venv first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
sc=.venv/bin/securecomm
mkdir -p out/what-if-example
$sc policies
$sc decide examples/caseload-1000.jsonl --policy tfsc-2011 > out/what-if-example/decisions-tfsc-2011.jsonl
echo "1000 decisions written to out/what-if-example/decisions-tfsc-2011.jsonl"
$sc explain examples/case-young-traffic-violator.json --policy tfsc-2011
$sc cases to-parquet examples/caseload-1000.jsonl out/what-if-example/caseload.parquet
$sc evaluate out/what-if-example/caseload.parquet --policy morton-2011 --policy tfsc-2011 \
    --policy tfsc-2011-strict --policy pep-2014 --out out/what-if-example/what-if
