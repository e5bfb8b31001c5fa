#!/usr/bin/env bash
# Time and peak memory of rightsize on inputs shaped to exhaust it: 1 GiB of
# one repeated row (3 MB of gzip), a gzip of 1 GiB without a newline, and a
# real trace with one row 100 years away. docs/benchmarks.md has the figures.
#
#   hack/hostile-bench.sh [path/to/rightsize]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-bin/rightsize}
out=_out/hostile
mkdir -p "$out"
# yes and tr end on SIGPIPE when head has enough: not a failure here.
set +o pipefail

header=timestamp,namespace,kind,workload,pod,container,cpu_cores,memory_bytes
row=2026-11-01T00:00:00Z,shop,Deployment,web,web-1,app,0.25,268435456
[ -f "$out/repeated.csv.gz" ] || { echo "$header"; yes "$row" | head -n $((1073741824 / (${#row} + 1))); } | gzip -1 >"$out/repeated.csv.gz"
[ -f "$out/no-newline.csv.gz" ] || { echo "$header"; head -c 1073741824 /dev/zero | tr '\0' 'a'; } | gzip -1 >"$out/no-newline.csv.gz"
if [ ! -f "$out/far-off.csv.gz" ] && [ -f ../shared/data/gcd-2011.csv.gz ]; then
	{ gzip -dc ../shared/data/gcd-2011.csv.gz; gzip -dc ../shared/data/gcd-2011.csv.gz | sed -n 2p | sed 's/^[^,]*,/4102444800,/'; } | gzip -1 >"$out/far-off.csv.gz"
fi
set -o pipefail

run() {
	local id=$1 what=$2
	shift 2
	/usr/bin/time -v "$bin" "$@" >/dev/null 2>"$out/$id.txt" || true
	printf '%-40s %10s %8s MB   ' "$what" \
		"$(awk '/Elapsed/ {print $NF}' "$out/$id.txt")" \
		"$(awk '/Maximum resident/ {print int($NF/1024)}' "$out/$id.txt")"
	grep -v -e '^[[:space:]]' -e '^Command' "$out/$id.txt" | head -1 | cut -c1-150
}
printf '%-40s %10s %11s   %s\n' input wall "peak RSS" "first line on stderr"
run repeated-plan "plan, 1 GiB of one repeated row" plan --input "$out/repeated.csv.gz"
run repeated-backtest "backtest, 1 GiB of one repeated row" backtest --input "$out/repeated.csv.gz"
run no-newline "plan, gzip of 1 GiB without a newline" plan --input "$out/no-newline.csv.gz"
run dev-zero "plan --input /dev/zero" plan --input /dev/zero
if [ -f "$out/far-off.csv.gz" ]; then
	run far-off "backtest, gcd-2011 + one row in 2100" backtest --input "$out/far-off.csv.gz" --accept-future 1000000h
fi
