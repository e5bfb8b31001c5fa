#!/usr/bin/env bash
# Fleet-scale reading of a usage file (docs/benchmarks.md, "Fleet scale"):
# `rightsize plan --input` of a 20-million-row file — 10,000 containers,
# 7 days at 5 minutes — with its samples and in sketches (--bounded-memory,
# the target's), against the floor of reading it at all
# (hack/parseloop: gunzip, split, parse every number, nothing kept).
# Knobs: FILE, BIN, RUNS.
set -euo pipefail
cd "$(dirname "$0")/.."
FILE=${FILE:-_out/usage-20m.csv.gz}
BIN=${BIN:-bin/rightsize}
RUNS=${RUNS:-2}
GO=${GO:-go}
mkdir -p _out
if [ ! -f "$FILE" ]; then
	$GO run ./hack/genusage -containers 10000 -days 7 -step 5m -out "$FILE"
fi
$GO build -o _out/parseloop ./hack/parseloop
for i in $(seq "$RUNS"); do
	/usr/bin/time -f "run $i parseloop: %e s wall, %U s user + %S s sys, %M KB max RSS" _out/parseloop "$FILE"
	/usr/bin/time -f "run $i plan: %e s wall, %U s user + %S s sys, %M KB max RSS" "$BIN" plan --input "$FILE" -o json >/dev/null
	/usr/bin/time -f "run $i plan --bounded-memory: %e s wall, %U s user + %S s sys, %M KB max RSS" "$BIN" plan --input "$FILE" --bounded-memory -o json >/dev/null
done
