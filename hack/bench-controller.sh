#!/usr/bin/env bash
# The footprint of `rightsize controller` with many pods tracked (docs/benchmarks.md): starts a
# local test cluster of its own (hack/cluster, on ports clear of the default cluster's), creates
# PODS pods in PODS/REPLICAS Deployments with varied emulated usage, waits until metrics-server
# serves PodMetrics for every one, runs the controller (-A, --interval 30s) for DURATION and
# samples its RSS and CPU time (/proc) and its /metrics every EVERY; then prints a summary. With
# PROFILE (a duration, 0 to skip) a second run of the same command, with net/http/pprof, starts
# from the first one's checkpoint and its heap profile is printed (go tool pprof -top).
#
#   make bench-controller                        # 10,000 pods, 30 min (about 45 min in all)
#   PODS=2000 DURATION=5m make bench-controller   # a quick one
#   hack/bench-controller.sh [path/to/rightsize]
#
# Env: PODS (10000), REPLICAS (pods per Deployment, 10), DURATION (30m), EVERY (10s),
# INTERVAL (the controller's --interval, 30s), PROFILE (3m), LISTEN (127.0.0.1:38080, the
# controller's /metrics), PPROF (127.0.0.1:38081), OUT (_out/bench-controller: CSV, logs,
# profile, the Recommendations' names). The cluster: NODES (PODS/3000 + 1 fake nodes),
# NODE_PODS (3000), CLUSTER_RUN ($OUT/cluster) and the *_PORT variables of hack/cluster/lib.sh,
# which default here to 3xxxx (etcd 32379-32381, apiserver 36443, controller-manager 30257,
# scheduler 30259, kwok 30247, metrics-server 34443). BENCH_KUBECONFIG: use that cluster
# instead and neither start nor stop one (CLUSTER_RUN, when set, still gives the components' CPU).
# KEEP_CLUSTER=1 leaves the cluster running (stop it with the same env and hack/cluster/down.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
bin=${1:-bin/rightsize}

PODS=${PODS:-10000}
REPLICAS=${REPLICAS:-10}
DURATION=${DURATION:-30m}
EVERY=${EVERY:-10s}
INTERVAL=${INTERVAL:-30s}
PROFILE=${PROFILE:-3m}
LISTEN=${LISTEN:-127.0.0.1:38080}
PPROF=${PPROF:-127.0.0.1:38081}
OUT=${OUT:-_out/bench-controller}
NS=bench
LEASE_NS=rightsize-bench

export ETCD_PORT=${ETCD_PORT:-32379} ETCD_PEER_PORT=${ETCD_PEER_PORT:-32380} ETCD_METRICS_PORT=${ETCD_METRICS_PORT:-32381}
export KAS_PORT=${KAS_PORT:-36443} KCM_PORT=${KCM_PORT:-30257} SCHED_PORT=${SCHED_PORT:-30259}
export KWOK_PORT=${KWOK_PORT:-30247} MS_PORT=${MS_PORT:-34443}
export NODES=${NODES:-$((PODS / 3000 + 1))} NODE_PODS=${NODE_PODS:-3000}

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
log() { echo "[bench-controller $(date +%T)] $*"; }

for a in "$LISTEN" "$PPROF"; do
	if (exec 3<>"/dev/tcp/${a%:*}/${a##*:}") 2>/dev/null; then
		echo "[bench-controller] error: $a is in use; set LISTEN / PPROF" >&2
		exit 1
	fi
done

# The binary under test is copied: a rebuild of bin/ during the run changes nothing.
cp "$bin" "$OUT/rightsize"
GOFLAGS=-trimpath go build -o "$OUT/benchcontroller" ./hack/benchcontroller

started_cluster=0
ctl_pid=
cleanup() {
	if [ -n "$ctl_pid" ] && kill -0 "$ctl_pid" 2>/dev/null; then
		kill -TERM "$ctl_pid"
		wait "$ctl_pid" 2>/dev/null || true
	fi
	if [ "$started_cluster" = 1 ] && [ "${KEEP_CLUSTER:-0}" != 1 ]; then
		log "stopping the cluster"
		hack/cluster/down.sh || true
	fi
}
trap cleanup EXIT

if [ -n "${BENCH_KUBECONFIG:-}" ]; then
	KUBECONFIG_FILE=$BENCH_KUBECONFIG
	CLUSTER_RUN=${CLUSTER_RUN:-}
else
	export CLUSTER_RUN=${CLUSTER_RUN:-$OUT/cluster}
	log "starting a cluster in $CLUSTER_RUN ($NODES nodes of $NODE_PODS pods, apiserver on $KAS_PORT)"
	started_cluster=1
	hack/cluster/up.sh
	KUBECONFIG_FILE=$CLUSTER_RUN/admin.kubeconfig
fi

log "uptime at start: $(uptime)"
"$OUT/benchcontroller" setup -kubeconfig "$KUBECONFIG_FILE" -pods "$PODS" -replicas "$REPLICAS" \
	-namespace "$NS" -lease-namespace "$LEASE_NS" -crd deploy/controller/crd/rightsize.dev_recommendations.yaml

args=(--kubeconfig "$KUBECONFIG_FILE" -A --lease-namespace "$LEASE_NS" --interval "$INTERVAL")

# wait_metrics URL: until the controller serves /metrics.
wait_metrics() {
	for _ in $(seq 1 120); do
		kill -0 "$ctl_pid" 2>/dev/null || { tail -n 20 "$2" >&2; echo "[bench-controller] the controller exited" >&2; exit 1; }
		if (exec 3<>"/dev/tcp/${LISTEN%:*}/${LISTEN##*:}") 2>/dev/null; then return; fi
		sleep 0.5
	done
	echo "[bench-controller] no /metrics on $LISTEN after 60 s" >&2
	exit 1
}

log "running $OUT/rightsize controller ${args[*]} --listen $LISTEN for $DURATION"
"$OUT/rightsize" controller "${args[@]}" --listen "$LISTEN" 2>"$OUT/controller.log" &
ctl_pid=$!
wait_metrics "$LISTEN" "$OUT/controller.log"
"$OUT/benchcontroller" sample -kubeconfig "$KUBECONFIG_FILE" -pid "$ctl_pid" -metrics "http://$LISTEN/metrics" \
	-duration "$DURATION" -every "$EVERY" -csv "$OUT/samples.csv" -lease-namespace "$LEASE_NS" \
	-recommendations "$OUT/recommendations.txt" -cluster-run "${CLUSTER_RUN:-}" | tee "$OUT/summary.txt"
log "stopping the controller (SIGTERM: it checkpoints)"
kill -TERM "$ctl_pid"
wait "$ctl_pid" || true
ctl_pid=
log "uptime at end: $(uptime)"

if [ "$PROFILE" != 0 ]; then
	log "heap profile: the same command with pprof on $PPROF, from the checkpoint, for $PROFILE"
	"$OUT/benchcontroller" controller -pprof "$PPROF" -- "${args[@]}" --listen "$LISTEN" 2>"$OUT/controller-pprof.log" &
	ctl_pid=$!
	wait_metrics "$LISTEN" "$OUT/controller-pprof.log"
	"$OUT/benchcontroller" sample -kubeconfig "$KUBECONFIG_FILE" -pid "$ctl_pid" -metrics "http://$LISTEN/metrics" \
		-duration "$PROFILE" -every "$EVERY" -csv "$OUT/samples-pprof.csv" -lease-namespace "$LEASE_NS" \
		-steady "$PROFILE" -heap-profile-url "http://$PPROF/debug/pprof/heap?gc=1" -heap-profile "$OUT/heap.pb.gz" |
		tee "$OUT/summary-pprof.txt"
	kill -TERM "$ctl_pid"
	wait "$ctl_pid" || true
	ctl_pid=
	if [ -f "$OUT/heap.pb.gz" ]; then
		go tool pprof -sample_index=inuse_space -top -nodecount=25 "$OUT/benchcontroller" "$OUT/heap.pb.gz" 2>/dev/null | tee "$OUT/heap-top.txt"
		go tool pprof -sample_index=inuse_space -top -cum -nodecount=40 "$OUT/benchcontroller" "$OUT/heap.pb.gz" 2>/dev/null >"$OUT/heap-top-cum.txt" || true
	fi
fi
log "done: $OUT/summary.txt, samples.csv, recommendations.txt${PROFILE:+, heap-top.txt}"
