#!/usr/bin/env bash
# Builds the binaries of the local test cluster from the Go module proxy, at the versions pinned in
# tools/*/go.mod, into hack/.cache/<component>@<version>/. A binary already in the cache is not
# rebuilt. Cold, on 2 cores: 10-15 minutes (kube-apiserver alone about 4); warm: a few seconds.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

# build COMPONENT BINARY PACKAGE [go build flags...]
build() {
	local dir out
	dir=$(component_dir "$1")
	out=$dir/$2
	if [ -x "$out" ]; then
		echo "cached  $out"
		return
	fi
	mkdir -p "$dir"
	echo "building $out"
	local t0=$SECONDS
	# Build to a temporary name first so an interrupted build never leaves a broken cached binary.
	(cd "$HACK_CLUSTER/tools/$1" && GOFLAGS="-mod=readonly -buildvcs=false" go build "${@:4}" -o "$out.tmp" "$3")
	mv "$out.tmp" "$out"
	echo "built   $out in $((SECONDS - t0))s"
}

KUBE_VERSION=$(module_version kube k8s.io/kubernetes)
minor=${KUBE_VERSION#v1.}
minor=${minor%%.*}
# Without the version stamp /version answers v0.0.0-master and clients that parse it fail.
ldflags="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	ldflags+=" -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
	ldflags+=" -X $p.gitCommit=0000000000000000000000000000000000000000 -X $p.buildDate=1970-01-01T00:00:00Z"
done

build etcd etcd . -ldflags "-s -w"
build kwok kwok sigs.k8s.io/kwok/cmd/kwok -ldflags "-s -w"
build metrics-server metrics-server sigs.k8s.io/metrics-server/cmd/metrics-server -ldflags "-s -w"
for c in kube-apiserver kube-controller-manager kube-scheduler; do
	build kube "$c" "k8s.io/kubernetes/cmd/$c" -ldflags "$ldflags"
done
