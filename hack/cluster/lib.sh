# Shared settings of build.sh, up.sh and down.sh (sourced, not run).
#
# Binaries are cached per component and version under $CLUSTER_CACHE (default hack/.cache), e.g.
# hack/.cache/kube@v1.34.4/kube-apiserver, so a version bump in tools/*/go.mod rebuilds only
# what changed and an unchanged checkout starts in seconds.

# The cluster's components are test infrastructure built at their own pinned
# versions: they keep the machine's Go whatever toolchain the project uses.
export GOTOOLCHAIN=${CLUSTER_GOTOOLCHAIN:-local}

HACK_CLUSTER=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HACK_CLUSTER/../.." && pwd)
CLUSTER_CACHE=${CLUSTER_CACHE:-$REPO_ROOT/hack/.cache}
# Run state (pids, logs, PKI, etcd data, kubeconfig) lives outside the cache: it is per run.
CLUSTER_RUN=${CLUSTER_RUN:-$REPO_ROOT/hack/.cache/run}

# module_version DIR MODULE: the version of MODULE pinned by the tools module in DIR.
module_version() {
	(cd "$HACK_CLUSTER/tools/$1" && GOFLAGS=-mod=readonly go list -m -f '{{.Version}}' "$2")
}

# component_dir NAME: the cache folder of one tools module at its pinned version.
component_dir() {
	case $1 in
	kube) echo "$CLUSTER_CACHE/kube@$(module_version kube k8s.io/kubernetes)" ;;
	etcd) echo "$CLUSTER_CACHE/etcd@$(module_version etcd go.etcd.io/etcd/server/v3)" ;;
	kwok) echo "$CLUSTER_CACHE/kwok@$(module_version kwok sigs.k8s.io/kwok)" ;;
	metrics-server) echo "$CLUSTER_CACHE/metrics-server@$(module_version metrics-server sigs.k8s.io/metrics-server)" ;;
	*) echo "unknown component $1" >&2; return 1 ;;
	esac
}

# Loopback ports. The defaults stay clear of the usual Kubernetes ports so a
# developer's own cluster tools keep working; override any of them by env.
ETCD_PORT=${ETCD_PORT:-22379}
ETCD_PEER_PORT=${ETCD_PEER_PORT:-22380}
ETCD_METRICS_PORT=${ETCD_METRICS_PORT:-22381}
KAS_PORT=${KAS_PORT:-26443}
KCM_PORT=${KCM_PORT:-20257}
SCHED_PORT=${SCHED_PORT:-20259}
KWOK_PORT=${KWOK_PORT:-20247}
MS_PORT=${MS_PORT:-24443}

# The components in start order; down.sh stops them in reverse.
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok metrics-server)
