#!/usr/bin/env bash
# Starts the local test cluster from the binaries build.sh cached: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kwok (fake nodes and pods with emulated usage) and
# metrics-server (the real metrics.k8s.io API), all on 127.0.0.1, and waits until pods schedule and
# the metrics API answers (about 10 s). Everything it starts is recorded in $CLUSTER_RUN/*.pid;
# down.sh stops exactly those processes. On failure it stops what it started and keeps the logs.
#
#   hack/cluster/build.sh && hack/cluster/up.sh
#   export RIGHTSIZE_TEST_KUBECONFIG=$PWD/hack/.cache/run/admin.kubeconfig   # optional: the tests look there anyway
#   go test ./...            # TestIntegration* run against it
#   hack/cluster/down.sh
#
# Env: NODES (fake nodes, 2), NODE_PODS (pods per node, 3000), *_PORT (see lib.sh), CLUSTER_RUN,
# CLUSTER_CACHE, KEEP_ON_FAIL=1 (leave processes running after a failure, for debugging).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

NODES=${NODES:-2}
NODE_PODS=${NODE_PODS:-3000}
T0=$SECONDS
log() { echo "[up +$((SECONDS - T0))s] $*"; }
die() {
	echo "[up] error: $*" >&2
	if [ "${KEEP_ON_FAIL:-0}" != 1 ]; then KEEP_RUN=1 "$HACK_CLUSTER/down.sh" >&2 || true; fi
	echo "[up] logs: $CLUSTER_RUN/*.log" >&2
	exit 1
}

declare -A BINS
BINS[etcd]=$(component_dir etcd)/etcd
for c in kube-apiserver kube-controller-manager kube-scheduler; do BINS[$c]=$(component_dir kube)/$c; done
BINS[kwok]=$(component_dir kwok)/kwok
BINS[metrics-server]=$(component_dir metrics-server)/metrics-server
for c in "${COMPONENTS[@]}"; do
	[ -x "${BINS[$c]}" ] || { echo "[up] error: ${BINS[$c]} is missing: run hack/cluster/build.sh first" >&2; exit 1; }
done
for f in "$CLUSTER_RUN"/*.pid; do
	[ -e "$f" ] || continue
	if kill -0 "$(cut -d' ' -f1 "$f")" 2>/dev/null; then
		echo "[up] error: a cluster is already running (pids in $CLUSTER_RUN); stop it with hack/cluster/down.sh" >&2
		exit 1
	fi
done
for p in $ETCD_PORT $ETCD_PEER_PORT $ETCD_METRICS_PORT $KAS_PORT $KCM_PORT $SCHED_PORT $KWOK_PORT $MS_PORT; do
	# bash's /dev/tcp connects only when something listens.
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		echo "[up] error: port $p on 127.0.0.1 is in use; set the *_PORT variables (see hack/cluster/lib.sh)" >&2
		exit 1
	fi
done

rm -rf "$CLUSTER_RUN"
mkdir -p "$CLUSTER_RUN"
CTL=$CLUSTER_RUN/clusterctl
(cd "$REPO_ROOT" && go build -o "$CTL" ./hack/cluster/clusterctl)
PKI=$CLUSTER_RUN/pki
"$CTL" pki -dir "$PKI" >/dev/null
TOKEN=$(cat "$PKI/admin.token")
KUBECONFIG_FILE=$CLUSTER_RUN/admin.kubeconfig
cat >"$KUBECONFIG_FILE" <<KC
apiVersion: v1
kind: Config
clusters:
- name: rightsize-test
  cluster:
    server: https://127.0.0.1:$KAS_PORT
    certificate-authority: $PKI/ca.crt
users:
- name: admin
  user:
    token: $TOKEN
contexts:
- name: rightsize-test
  context: {cluster: rightsize-test, user: admin}
current-context: rightsize-test
KC
chmod 600 "$KUBECONFIG_FILE"

# kwok's stages and its kubelet-style metrics come from the kwok module itself, so they always
# match the kwok binary; only the emulated usage is ours. No KwokConfiguration document on purpose:
# with one in --config, kwok v0.8.0 skips its defaults and fails; options go in flags instead.
KWOK_MOD=$(cd "$HACK_CLUSTER/tools/kwok" && go mod download -json sigs.k8s.io/kwok | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$KWOK_MOD/kustomize/stage" ] || die "kwok module not found in the module cache ($KWOK_MOD)"
{
	for f in stage/node/fast/node-initialize.yaml stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
		stage/pod/fast/pod-ready.yaml stage/pod/fast/pod-complete.yaml stage/pod/fast/pod-delete.yaml \
		metrics/resource/metrics-resource.yaml; do
		echo "---"
		echo "# from sigs.k8s.io/kwok/kustomize/$f"
		if [ "$f" = stage/pod/fast/pod-ready.yaml ]; then
			# A kubelet that resizes pods in place reports each container's
			# resources in its status; the apiserver refuses pods/resize
			# for a running container without them (node without support).
			sed 's/^\(        \)restartCount: 0$/&\n\1resources:{{ YAML .resources 5 }}/' "$KWOK_MOD/kustomize/$f"
		else
			cat "$KWOK_MOD/kustomize/$f"
		fi
	done
	echo "---"
	cat "$HACK_CLUSTER/kwok-usage.yaml"
} >"$CLUSTER_RUN/kwok.yaml"

# start NAME ARGS...: runs the component in its own session (a Ctrl-C in the terminal that started
# it does not reach it), logs to NAME.log, records "pid binary" in NAME.pid for down.sh.
start() {
	local name=$1
	shift
	setsid "${BINS[$name]}" "$@" >"$CLUSTER_RUN/$name.log" 2>&1 </dev/null &
	echo "$! ${BINS[$name]}" >"$CLUSTER_RUN/$name.pid"
}
# wait_for DESC TIMEOUT PROBE-ARGS...: polls clusterctl probe, failing fast when a component exited.
wait_for() {
	local desc=$1 timeout=$2
	shift 2
	local end=$((SECONDS + timeout))
	until "$CTL" probe "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $end ] || die "timed out waiting for $desc"
		for f in "$CLUSTER_RUN"/*.pid; do
			kill -0 "$(cut -d' ' -f1 "$f")" 2>/dev/null || {
				tail -n 20 "${f%.pid}.log" >&2
				die "$(basename "${f%.pid}") exited (log above)"
			}
		done
		sleep 0.5
	done
	log "$desc ready"
}

start etcd --name rightsize-test --data-dir "$CLUSTER_RUN/etcd" \
	--listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
	--listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
	--initial-cluster "rightsize-test=http://127.0.0.1:$ETCD_PEER_PORT" \
	--listen-metrics-urls "http://127.0.0.1:$ETCD_METRICS_PORT" \
	--quota-backend-bytes=4294967296 --unsafe-no-fsync
wait_for etcd 30 -url "http://127.0.0.1:$ETCD_PORT/health"

# --advertise-address: the default is picked from a non-loopback interface, which a CI container
# may not have. Priority and fairness is off so that the discovery benchmark measures the client.
start kube-apiserver \
	--etcd-servers="http://127.0.0.1:$ETCD_PORT" \
	--bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$KAS_PORT" \
	--tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
	--client-ca-file="$PKI/ca.crt" --token-auth-file="$PKI/tokens.csv" \
	--authorization-mode=RBAC \
	--service-account-issuer=https://kubernetes.default.svc.cluster.local \
	--service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
	--service-cluster-ip-range=10.96.0.0/16 \
	--requestheader-client-ca-file="$PKI/front-proxy-ca.crt" --requestheader-allowed-names=front-proxy-client \
	--requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
	--requestheader-extra-headers-prefix=X-Remote-Extra- \
	--proxy-client-cert-file="$PKI/front-proxy-client.crt" --proxy-client-key-file="$PKI/front-proxy-client.key" \
	--enable-priority-and-fairness=false --profiling=false
wait_for kube-apiserver 120 -url "https://127.0.0.1:$KAS_PORT/readyz" -ca "$PKI/ca.crt" -token "@$PKI/admin.token"

start kube-controller-manager \
	--kubeconfig="$KUBECONFIG_FILE" \
	--authentication-kubeconfig="$KUBECONFIG_FILE" --authorization-kubeconfig="$KUBECONFIG_FILE" \
	--bind-address=127.0.0.1 --secure-port="$KCM_PORT" \
	--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics \
	--leader-elect=false --controllers='*' \
	--service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
	--service-cluster-ip-range=10.96.0.0/16 \
	--kube-api-qps=200 --kube-api-burst=400 --concurrent-replicaset-syncs=10 --concurrent-deployment-syncs=10

# Without a scheduler the pods of every controller stay Pending.
start kube-scheduler \
	--kubeconfig="$KUBECONFIG_FILE" \
	--authentication-kubeconfig="$KUBECONFIG_FILE" --authorization-kubeconfig="$KUBECONFIG_FILE" \
	--bind-address=127.0.0.1 --secure-port="$SCHED_PORT" \
	--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics \
	--leader-elect=false

# One kwok process plays the kubelet of every fake node: each node's /metrics/resource is served
# under /metrics/nodes/<node>/metrics/resource on this port.
start kwok \
	--kubeconfig="$KUBECONFIG_FILE" --config="$CLUSTER_RUN/kwok.yaml" \
	--manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
	--node-ip=127.0.0.1 --node-name=localhost --node-port="$KWOK_PORT" \
	--server-address="127.0.0.1:$KWOK_PORT" \
	--tls-cert-file="$PKI/serving.crt" --tls-private-key-file="$PKI/serving.key" \
	--node-lease-duration-seconds=40 --cidr=10.244.0.0/16

start metrics-server \
	--kubeconfig="$KUBECONFIG_FILE" \
	--authentication-kubeconfig="$KUBECONFIG_FILE" --authorization-kubeconfig="$KUBECONFIG_FILE" \
	--bind-address=127.0.0.1 --secure-port="$MS_PORT" \
	--tls-cert-file="$PKI/serving.crt" --tls-private-key-file="$PKI/serving.key" \
	--kubelet-insecure-tls --kubelet-use-node-status-port --kubelet-preferred-address-types=InternalIP \
	--metric-resolution=10s --kubelet-request-timeout=5s

wait_for kube-controller-manager 120 -url "https://127.0.0.1:$KCM_PORT/healthz" -insecure
wait_for kube-scheduler 120 -url "https://127.0.0.1:$SCHED_PORT/healthz" -insecure
wait_for kwok 120 -url "http://127.0.0.1:$KWOK_PORT/healthz"
wait_for metrics-server 120 -url "https://127.0.0.1:$MS_PORT/livez" -insecure

"$CTL" bootstrap -kubeconfig "$KUBECONFIG_FILE" -ca "$PKI/ca.crt" -metrics-port "$MS_PORT" \
	-nodes "$NODES" -node-pods "$NODE_PODS" | while IFS= read -r line; do log "$line"; done || die "bootstrap failed"

log "cluster is up: export RIGHTSIZE_TEST_KUBECONFIG=$KUBECONFIG_FILE (or KUBECONFIG for kubectl); stop it with hack/cluster/down.sh"
