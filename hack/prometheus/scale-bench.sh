#!/usr/bin/env bash
# Scale benchmark of the Prometheus collector (docs/benchmarks.md, "Prometheus collector"):
# a real Prometheus on this machine holding CONTAINERS pod containers × DAYS
# days at 1-minute resolution; `rightsize plan --prometheus-url` against it
# under /usr/bin/time, the same with --bounded-memory (the history in sketches,
# each chunk's samples dropped once in them), then the naive way
# (hack/prometheus/naive: raw samples, one query per container) for comparison.
#
#   hack/prometheus/scale-bench.sh            # or: make bench-prometheus
#
# The TSDB is built once (genbench + promtool: about 10 minutes for the
# defaults, 60 GB of OpenMetrics passing through temporary files of 3 GB,
# two at a time) and kept in $OUT/tsdb; remove it to build again. Needs Go,
# prometheus and promtool (apt-get install -y prometheus), curl and GNU time.
set -euo pipefail
cd "$(dirname "$0")/../.."

OUT=${OUT:-_out/prom-bench}
CONTAINERS=${CONTAINERS:-2000}
DAYS=${DAYS:-14}
END=${END:-2026-11-15T00:00:00Z}
PORT=${PORT:-19099}
RUNS=${RUNS:-3}  # runs of rightsize plan
GZIP=${GZIP:-1}  # one more with compressed responses
NAIVE=${NAIVE:-1}
BOUNDED=${BOUNDED:-1} # runs of rightsize plan --bounded-memory (the history in sketches)
CPURES=${CPURES:-1}   # the CPU percentiles three ways: the shapes (the runs above), the 5-minute
                      # means (--prometheus-cpu-resolution 0), 1-minute steps (the reference)

for tool in prometheus promtool curl /usr/bin/time; do
	command -v "$tool" >/dev/null || {
		echo "scale-bench: $tool not found; install with: apt-get install -y prometheus curl time" >&2
		exit 1
	}
done
mkdir -p "$OUT" bin
CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o bin/rightsize ./cmd/rightsize # lean and static, as make build
go build -o "$OUT/naive" ./hack/prometheus/naive
go build -o "$OUT/genbench" ./hack/prometheus/genbench
go build -o "$OUT/cmpplans" ./hack/prometheus/cmpplans

if [ ! -d "$OUT/tsdb" ]; then
	echo "scale-bench: building the TSDB ($CONTAINERS containers × $DAYS days at 1 minute) in $OUT/tsdb"
	/usr/bin/time -v "$OUT/genbench" -containers "$CONTAINERS" -days "$DAYS" -end "$END" -out "$OUT/tsdb" 2>"$OUT/genbench.txt" ||
		{ cat "$OUT/genbench.txt"; exit 1; }
	grep -E '^genbench: .*(samples|blocks)|Elapsed|Maximum resident' "$OUT/genbench.txt"
fi
echo "scale-bench: TSDB $(du -sh "$OUT/tsdb" | cut -f1), $(ls -d "$OUT"/tsdb/01*/ | wc -l) blocks"

# The blocks are 18 h long: a longer max-block-duration would start
# compactions in the middle of the measurements.
printf 'global:\n  scrape_interval: 1m\n' >"$OUT/prometheus.yml"
prometheus --config.file="$OUT/prometheus.yml" --storage.tsdb.path="$OUT/tsdb" \
	--storage.tsdb.retention.time=100y --storage.tsdb.max-block-duration=18h \
	--web.listen-address="127.0.0.1:$PORT" --log.level=warn >"$OUT/prometheus.log" 2>&1 &
PROM=$!
trap 'kill $PROM 2>/dev/null; wait $PROM 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
	curl -sf "http://127.0.0.1:$PORT/-/ready" >/dev/null && break
	kill -0 $PROM 2>/dev/null || { cat "$OUT/prometheus.log"; exit 1; }
	sleep 0.1
done
URL="http://127.0.0.1:$PORT"

# promcpu prints the CPU seconds Prometheus has used so far.
promcpu() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$PROM/stat"; }

measure() { # name, command...
	local name=$1
	shift
	local before wall rss cpu server
	before=$(promcpu)
	/usr/bin/time -v "$@" >"$OUT/$name.out" 2>"$OUT/$name.txt" || { cat "$OUT/$name.txt"; exit 1; }
	server=$(awk -v a="$before" -v b="$(promcpu)" 'BEGIN{printf "%.0f", b - a}')
	wall=$(grep 'Elapsed (wall clock)' "$OUT/$name.txt" | awk '{print $NF}')
	rss=$(grep 'Maximum resident' "$OUT/$name.txt" | awk '{print $NF}')
	cpu=$(grep -E 'User time|System time' "$OUT/$name.txt" | awk '{s += $NF} END {printf "%.0f", s}')
	printf '%-12s wall %-8s max RSS %5d MB  CPU %4s s (prometheus %4s s)  %s\n' "$name" "$wall" $((rss / 1024)) "$cpu" "$server" \
		"$(grep -E '^(prometheus http|naive:)' "$OUT/$name.txt" | sed -E 's/^(prometheus [^ ]*|naive): //')"
}

echo "scale-bench: rightsize plan --prometheus-url $URL --end $END ($RUNS runs)"
for i in $(seq 1 "$RUNS"); do
	measure "plan-$i" bin/rightsize plan --prometheus-url "$URL" --end "$END" -o json
done
if [ "$BOUNDED" -gt 0 ]; then
	echo "scale-bench: rightsize plan --bounded-memory ($BOUNDED runs)"
	for i in $(seq 1 "$BOUNDED"); do
		measure "bounded-$i" bin/rightsize plan --prometheus-url "$URL" --end "$END" -o json --bounded-memory
	done
fi
if [ "$CPURES" = 1 ] && [ "$RUNS" -gt 0 ]; then
	echo "scale-bench: CPU percentiles from the 5-minute means, and from 1-minute steps"
	measure means bin/rightsize plan --prometheus-url "$URL" --end "$END" -o json --prometheus-cpu-resolution 0
	measure onemin bin/rightsize plan --prometheus-url "$URL" --end "$END" -o json --prometheus-step 1m --bounded-memory
	echo "scale-bench: against the 1-minute steps' plan, the shapes':"
	"$OUT/cmpplans" "$OUT/onemin.out" "$OUT/plan-1.out"
	echo "scale-bench: against the 1-minute steps' plan, the 5-minute means':"
	"$OUT/cmpplans" "$OUT/onemin.out" "$OUT/means.out"
fi
if [ "$GZIP" = 1 ]; then
	echo "scale-bench: the same with gzip-compressed responses (--prometheus-compression on)"
	measure plan-gzip bin/rightsize plan --prometheus-url "$URL" --end "$END" -o json --prometheus-compression on
fi
echo "scale-bench: prometheus RSS after the runs: $(($(awk '/VmRSS/{print $2}' /proc/$PROM/status) / 1024)) MB"
if [ "$NAIVE" = 1 ]; then
	echo "scale-bench: naive: raw samples, one query per container"
	measure naive "$OUT/naive" -url "$URL" -end "$END" -history "$((DAYS * 24))h"
fi
