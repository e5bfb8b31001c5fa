#!/usr/bin/env bash
# The whole test suite, on a fresh machine too: installs what the integration
# tests talk to (Debian's prometheus, victoria-metrics and chromium, as root),
# builds and starts the local control plane unless one is already running (and
# then stops only what it started), runs every test and every fuzz target
# briefly.
#
#   hack/test.sh [go test flags...]      (make test)
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v prometheus >/dev/null && command -v promtool >/dev/null || need+=(prometheus)
command -v victoria-metrics >/dev/null || command -v victoria-metrics-prod >/dev/null || need+=(victoria-metrics)
command -v chromium >/dev/null || need+=(chromium fonts-liberation)
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "test: missing ${need[*]}: install them (apt-get install -y ${need[*]}) or run make test-short" >&2
		exit 1
	fi
	echo "test: installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${need[@]}" >/dev/null
fi

kubeconfig=hack/.cache/run/admin.kubeconfig
running=0
for f in hack/.cache/run/*.pid; do
	[ -e "$f" ] && kill -0 "$(cut -d' ' -f1 "$f")" 2>/dev/null && running=1 && break
done
if [ $running = 0 ]; then
	hack/cluster/build.sh
	trap 'hack/cluster/down.sh' EXIT
	hack/cluster/up.sh
fi
export RIGHTSIZE_TEST_KUBECONFIG="$PWD/$kubeconfig"

go test -count=1 "$@" ./...

# The real VPA recommender, in its own module (its Kubernetes versions stay
# out of ours), pins the vpa profile to it on the shared traces (~10 s).
(cd hack/vparef && go test -count=1 "$@" ./...)

# Every fuzz target for a moment: the seed corpora ran above as tests; this
# makes sure each target still fuzzes (make fuzz runs them for longer).
FUZZTIME=${FUZZTIME:-2s} hack/fuzz.sh
