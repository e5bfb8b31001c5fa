# rightsize — build, test and benchmark targets. Only Go is needed.

GO        ?= go
# The Go release rightsize is built and tested with: the go command fetches it
# through the module proxy when the machine has an older one. It carries the
# standard library's security fixes that govulncheck (make lint) asks for; go.mod
# still accepts Go 1.26 for a plain go build.
export GOTOOLCHAIN ?= go1.27.3
BIN       ?= bin
PKGS      ?= ./...
BIG_CSV   ?= _out/usage-2m.csv.gz
SHARED    ?= ../shared/data

.PHONY: all build image test test-short test-integration fuzz vulncheck bench bench-plan bench-backtest bench-discovery bench-controller bench-prometheus bench-fleet bench-hostile demo lint generate demo-data big-data backtest-shared cluster-up cluster-down clean

all: lint test build

## build: the rightsize binary (also installable as the kubectl plugin
## kubectl-rightsize), lean: no symbol table or DWARF (-s -w), no local paths
## (-trimpath), static (CGO_ENABLED=0): cli-runtime's kustomize links the
## plugin package, which in a cgo build exports every symbol dynamically
## (14 MB of symbol tables) and costs a run some 30 MB of resident pages.
## VERSION is what rightsize version prints (git describe by default); the
## commit, its time and "modified" come from the build's VCS stamp
## (-buildvcs=auto, whatever GOFLAGS says).
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   ?= -s -w -X rightsize.dev/rightsize/cmd/rightsize/app.Version=$(VERSION)
BUILDFLAGS ?= -trimpath -buildvcs=auto
build:
	CGO_ENABLED=0 $(GO) build $(BUILDFLAGS) -ldflags "$(LDFLAGS)" -o $(BIN)/rightsize ./cmd/rightsize
	ln -sf rightsize $(BIN)/kubectl-rightsize

## image: the container image of the controller and the report CronJob, built
## in Go (hack/image, go-containerregistry) with no container engine and no
## base to pull: rightsize built as make build builds it, static
## (CGO_ENABLED=0) for linux/$(GOARCH), is the entrypoint (no Cmd: the
## manifests' args pick the subcommand); user
## 65532:65532, the build machine's CA bundle ($(IMAGE_CA), left out with a
## warning when absent). Written to $(IMAGE_TAR), tagged $(IMAGE), for docker
## load -i, podman load, kind load image-archive or crane push; the digest is
## printed. Dated SOURCE_DATE_EPOCH (the commit's time), so two builds of one
## commit give one digest. IMAGE_PUSH=registry/rightsize:tag also pushes it
## with the credentials of docker login (or crane auth login).
IMAGE      ?= rightsize:dev
IMAGE_TAR  ?= $(BIN)/rightsize-image.tar
IMAGE_PUSH ?=
IMAGE_CA   ?= /etc/ssl/certs/ca-certificates.crt
IMAGE_SOURCE ?=
GOARCH     ?= amd64
REVISION   ?= $(shell git rev-parse HEAD 2>/dev/null)
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
image:
	CGO_ENABLED=0 GOOS=linux GOARCH=$(GOARCH) $(GO) build $(BUILDFLAGS) -ldflags "$(LDFLAGS)" -o $(BIN)/linux-$(GOARCH)/rightsize ./cmd/rightsize
	GOOS= GOARCH= $(GO) -C hack/image run . -binary $(abspath $(BIN)/linux-$(GOARCH)/rightsize) -arch $(GOARCH) \
		-ca "$(IMAGE_CA)" -version "$(VERSION)" -revision "$(REVISION)" -source "$(IMAGE_SOURCE)" -created $(SOURCE_DATE_EPOCH) \
		-tag $(IMAGE) -out $(abspath $(IMAGE_TAR)) $(if $(IMAGE_PUSH),-push $(IMAGE_PUSH))

## test: every test, integration included: installs prometheus and chromium
## when missing (as root) and starts the local control plane (hack/test.sh);
## then the image builder's (hack/image, a module of its own)
test:
	hack/test.sh
	$(GO) -C hack/image test -count=1 ./...

## test-short: unit tests only (no Prometheus, Chromium or cluster needed)
test-short:
	$(GO) test -short -count=1 $(PKGS)

## test-integration: only the tests against real servers (see cluster-up)
test-integration:
	$(GO) test -count=1 -run Integration $(PKGS)

## cluster-up / cluster-down: the local control plane the integration tests use
cluster-up:
	hack/cluster/build.sh
	hack/cluster/up.sh
cluster-down:
	hack/cluster/down.sh

## demo: rightsize plan on the embedded demo data
demo:
	$(GO) run ./cmd/rightsize plan

## lint: go vet, gofmt, staticcheck (pinned) and govulncheck (pinned; skipped
## with a message when no vulnerability database can be reached)
STATICCHECK_VERSION ?= v0.8.2
lint:
	$(GO) vet $(PKGS)
	$(GO) -C hack/image vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) $(PKGS)
	hack/vulncheck.sh

## vulncheck: govulncheck alone
vulncheck:
	hack/vulncheck.sh

## fuzz: every fuzz target for FUZZTIME each (make test runs them for 2s)
FUZZTIME ?= 2m
fuzz:
	FUZZTIME=$(FUZZTIME) hack/fuzz.sh

## generate: the Recommendation API's deep-copy functions and its CRD manifest
## (deploy/controller/crd) from report/crd/..., with a pinned controller-gen
CONTROLLER_GEN_VERSION ?= v0.23.0
generate:
	$(GO) run sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_GEN_VERSION) \
		object paths=./report/crd/... \
		crd:crdVersions=v1,allowDangerousTypes=true output:crd:artifacts:config=deploy/controller/crd

## demo-data: regenerate the embedded demo dataset (deterministic)
demo-data:
	$(GO) run ./metrics/usagecsv/demo/gen -out metrics/usagecsv/demo/demo.csv.gz

## big-data: the 2-million-row usage file for the plan benchmark
big-data: $(BIG_CSV)
$(BIG_CSV):
	@mkdir -p $(dir $@)
	$(GO) run ./hack/genusage -containers 1000 -days 7 -step 5m -out $@

## bench: Go benchmarks, then the end-to-end plan and backtest runs (see docs/benchmarks.md)
bench: build big-data
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)
	$(MAKE) bench-plan bench-backtest

bench-plan: build big-data
	/usr/bin/time -v $(BIN)/rightsize plan --input $(BIG_CSV) -o json 2>_out/plan-time.txt >/dev/null || (cat _out/plan-time.txt; exit 1)
	@grep -E 'Elapsed|Maximum resident' _out/plan-time.txt

bench-backtest: build
	/usr/bin/time -v $(BIN)/rightsize backtest --input $(SHARED)/gcd-2011.csv.gz 2>_out/backtest-time.txt
	@grep -E 'Elapsed|Maximum resident' _out/backtest-time.txt

## bench-discovery: discovery of 5,000 pods in 500 workloads (needs cluster-up)
bench-discovery:
	RIGHTSIZE_BENCH_DISCOVERY=1 $(GO) test -count=1 -timeout 30m -run TestIntegrationDiscoveryScale -v ./metrics/kube

## bench-controller: the controller's RSS and CPU with 10,000 pods tracked (kwok) at
## a 30 s interval, on a cluster of its own (hack/cluster on ports 3xxxx, started and
## stopped here), sampled every 10 s for 30 min, then a heap profile from its
## checkpoint (hack/bench-controller.sh; about 45 min in all). PODS (10000),
## DURATION (30m), REPLICAS (pods per Deployment, 10), PROFILE (3m, 0 to skip);
## BENCH_KUBECONFIG uses a running cluster instead. Output in _out/bench-controller.
bench-controller: build
	hack/bench-controller.sh $(BIN)/rightsize

## bench-prometheus: plan against a real Prometheus holding 2,000 containers × 14 days at 1 minute, and the naive way
bench-prometheus:
	hack/prometheus/scale-bench.sh

## bench-fleet: plan from VictoriaMetrics holding 20,000 containers × 14 days at 1 minute (built once, streamed),
## and plan --input of 20 million rows (10,000 containers) against the floor of reading them (docs/benchmarks.md)
bench-fleet: build
	hack/prometheus/vm-bench.sh
	hack/fleet-bench.sh

## bench-hostile: time and memory on inputs shaped to exhaust rightsize (docs/benchmarks.md)
bench-hostile: build
	hack/hostile-bench.sh $(BIN)/rightsize

## backtest-shared: all profiles on both shared traces
backtest-shared: build
	$(BIN)/rightsize backtest --input $(SHARED)/gcd-2011.csv.gz
	$(BIN)/rightsize backtest --input $(SHARED)/azure-2017-cpu.csv.gz

clean:
	rm -rf $(BIN) _out
