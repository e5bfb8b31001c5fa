#!/usr/bin/env bash
# Scale benchmark of the Prometheus collector against VictoriaMetrics: a
# real single-node VictoriaMetrics on this machine holding CONTAINERS pod
# containers × DAYS days at 1-minute resolution; `rightsize plan
# --prometheus-url` against it under /usr/bin/time, then the same with
# --bounded-memory (the history in sketches, each chunk's samples dropped
# once in them).
#
#   hack/prometheus/vm-bench.sh
#   CONTAINERS=2000 DAYS=2 OUT=_out/vm-small hack/prometheus/vm-bench.sh
#
# The data directory is built once (genfleet streams the fleet, a day at a
# time, into VictoriaMetrics' /api/v1/import) and kept in $OUT/data; remove
# it to build again. It is built in $OUT/data.tmp, flushed and merged into
# its final parts, and renamed only when complete, so an interrupted build
# starts over. Needs Go, victoria-metrics (apt-get install -y
# victoria-metrics), curl and GNU time.
set -euo pipefail
cd "$(dirname "$0")/../.."

OUT=${OUT:-_out/vm-bench}
CONTAINERS=${CONTAINERS:-20000}
DAYS=${DAYS:-14}
END=${END:-2026-11-15T00:00:00Z}
PORT=${PORT:-19428}
RUNS=${RUNS:-1}       # runs of rightsize plan
BOUNDED=${BOUNDED:-1} # runs of rightsize plan --bounded-memory
JOBS=${JOBS:-3}       # genfleet's import requests at once
ARGS=${ARGS:-}        # more flags for rightsize plan, e.g. ARGS='--prometheus-compression on'
# The limits of VictoriaMetrics 1.79 that a fleet this size exceeds: the
# collector lists the series of a group of namespaces (/api/v1/series,
# default 30,000 series, refused whole), a query selects up to every pod
# container's series of a family (default 300,000) and may run longer
# than 30 s, and the throttling query, its selector four times over a
# long list of pods, is longer than 16 KB (each refusal is logged whole).
VMARGS=${VMARGS:--search.maxSeries=10000000 -search.maxUniqueTimeseries=10000000 -search.maxQueryDuration=10m -search.maxSamplesPerQuery=100000000000 -search.maxQueryLen=1MB}

VM_BIN=$(command -v victoria-metrics || command -v victoria-metrics-prod || true)
[ -n "$VM_BIN" ] || {
	echo "vm-bench: victoria-metrics not found; install with: apt-get install -y victoria-metrics" >&2
	exit 1
}
for tool in curl /usr/bin/time; do
	command -v "$tool" >/dev/null || {
		echo "vm-bench: $tool not found; install with: apt-get install -y curl time" >&2
		exit 1
	}
done
mkdir -p "$OUT" bin
CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o bin/rightsize ./cmd/rightsize # lean and static, as make build
go build -o "$OUT/genfleet" ./hack/prometheus/genfleet
URL="http://127.0.0.1:$PORT"
VM=

# startvm runs VictoriaMetrics over a data directory and waits until it is
# healthy.
startvm() { # data directory
	# shellcheck disable=SC2086 # VMARGS is a list of flags
	"$VM_BIN" -storageDataPath="$1" -retentionPeriod=100y -httpListenAddr="127.0.0.1:$PORT" \
		-loggerLevel=WARN $VMARGS >>"$OUT/victoria-metrics.log" 2>&1 &
	VM=$!
	for _ in $(seq 1 600); do
		curl -sf "$URL/health" >/dev/null && return 0
		kill -0 "$VM" 2>/dev/null || { tail "$OUT/victoria-metrics.log"; exit 1; }
		sleep 0.1
	done
	echo "vm-bench: victoria-metrics not healthy after 60 s" >&2
	exit 1
}
stopvm() {
	[ -n "$VM" ] || return 0
	kill "$VM" 2>/dev/null || true
	wait "$VM" 2>/dev/null || true
	VM=
}
trap stopvm EXIT

# vmmetric sums the series of VictoriaMetrics' own /metrics that start
# with a prefix (a name and the start of its labels).
vmmetric() { curl -sf "$URL/metrics" | awk -v m="$1" 'index($1, m) == 1 {s += $2} END {printf "%.0f\n", s}'; }

# settle waits until VictoriaMetrics has no merge running and has used
# less than a tenth of a CPU for 10 s, so that background work does not
# distort what follows.
settle() {
	local before after
	for _ in $(seq 1 360); do
		before=$(vmcpu)
		sleep 10
		after=$(vmcpu)
		if [ "$(vmmetric 'vm_active_merges{')" = 0 ] && [ "$(vmmetric 'vm_active_force_merges')" = 0 ] &&
			awk -v a="$before" -v b="$after" 'BEGIN{exit !(b - a < 1)}'; then
			return 0
		fi
	done
	echo "vm-bench: victoria-metrics still busy after an hour" >&2
	exit 1
}

# vmcpu prints the CPU seconds VictoriaMetrics has used so far.
vmcpu() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$VM/stat"; }

if [ ! -d "$OUT/data" ]; then
	echo "vm-bench: building the data directory ($CONTAINERS containers × $DAYS days at 1 minute) in $OUT/data"
	rm -rf "$OUT/data.tmp"
	startvm "$OUT/data.tmp"
	/usr/bin/time -v "$OUT/genfleet" -containers "$CONTAINERS" -days "$DAYS" -end "$END" -url "$URL" -jobs "$JOBS" \
		2>"$OUT/genfleet.txt" || { cat "$OUT/genfleet.txt"; exit 1; }
	grep -E '^genfleet: .*(pods|samples written)|Elapsed|Maximum resident' "$OUT/genfleet.txt"
	t=$(date +%s)
	curl -sf "$URL/internal/force_flush" >/dev/null
	# A forced merge leaves out the parts a background merge holds when it
	# starts: the second merges what those became.
	for _ in 1 2; do
		curl -sf "$URL/internal/force_merge" >/dev/null
		settle
	done
	echo "vm-bench: flushed and merged in $(($(date +%s) - t)) s; victoria-metrics used $(vmcpu | cut -d. -f1) CPU s in all," \
		"RSS $(($(awk '/VmRSS/{print $2}' "/proc/$VM/status") / 1024)) MB"
	stopvm
	mv "$OUT/data.tmp" "$OUT/data"
fi
echo "vm-bench: data directory $(du -sh "$OUT/data" | cut -f1) ($(du -sb "$OUT/data" | awk '{printf "%.2f", $1 / 1e9}') GB)"

startvm "$OUT/data"
settle
echo "vm-bench: victoria-metrics at $URL: $(vmmetric 'vm_rows{type="storage/') samples, RSS $(($(awk '/VmRSS/{print $2}' "/proc/$VM/status") / 1024)) MB"

measure() { # name, command...
	local name=$1
	shift
	local before wall rss cpu server
	before=$(vmcpu)
	/usr/bin/time -v "$@" >"$OUT/$name.out" 2>"$OUT/$name.txt" || { cat "$OUT/$name.txt"; exit 1; }
	server=$(awk -v a="$before" -v b="$(vmcpu)" 'BEGIN{printf "%.0f", b - a}')
	wall=$(grep 'Elapsed (wall clock)' "$OUT/$name.txt" | awk '{print $NF}')
	rss=$(grep 'Maximum resident' "$OUT/$name.txt" | awk '{print $NF}')
	cpu=$(grep -E 'User time|System time' "$OUT/$name.txt" | awk '{s += $NF} END {printf "%.0f", s}')
	printf '%-12s wall %-8s max RSS %5d MB  CPU %4s s (victoria-metrics %4s s)  %s\n' "$name" "$wall" $((rss / 1024)) "$cpu" "$server" \
		"$(grep -E '^prometheus http' "$OUT/$name.txt" | sed -E 's/^prometheus [^ ]*: //')"
}

# shellcheck disable=SC2086 # ARGS is a list of flags
{
	echo "vm-bench: rightsize plan --prometheus-url $URL --end $END $ARGS ($RUNS runs)"
	for i in $(seq 1 "$RUNS"); do
		measure "plan-$i" bin/rightsize plan --prometheus-url "$URL" --end "$END" -o json $ARGS
	done
	if [ "$BOUNDED" -gt 0 ]; then
		echo "vm-bench: rightsize plan --bounded-memory ($BOUNDED runs)"
		for i in $(seq 1 "$BOUNDED"); do
			measure "bounded-$i" bin/rightsize plan --prometheus-url "$URL" --end "$END" -o json --bounded-memory $ARGS
		done
	fi
}
echo "vm-bench: victoria-metrics RSS after the runs: $(($(awk '/VmRSS/{print $2}' "/proc/$VM/status") / 1024)) MB"
