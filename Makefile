# pipeline-service-operator
#
# Every tool is built from the Go module proxy at a pinned version (`go run`): no release
# downloads, which our machines and CI cannot reach.

IMG ?= quay.io/konflux-ci/pipeline-service-operator:latest
# The operator's version, for the bundle; channels are OLM's, comma-separated, default first.
VERSION ?= 0.1.0
CHANNELS ?= candidate

CONTROLLER_GEN ?= go run sigs.k8s.io/controller-tools/cmd/controller-gen@v0.19.0
KUSTOMIZE ?= go run sigs.k8s.io/kustomize/kustomize/v5@v5.7.1

# The envtest control plane, built from source once per machine by hack/setup-envtest.sh.
ENVTEST_K8S_VERSION ?= 1.36.3
ENVTEST_ETCD_VERSION ?= 3.6.5
export ENVTEST_K8S_VERSION ENVTEST_ETCD_VERSION

GOTEST_FLAGS ?=

.PHONY: all
all: build

##@ Development

.PHONY: help
help: ## Show the targets.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_-]+:.*?##/ { printf "  %-12s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

.PHONY: manifests
manifests: ## Generate the CRD and RBAC from the markers in api/ and controllers/ (descriptions unwrapped for kubectl explain).
	$(CONTROLLER_GEN) rbac:roleName=pipeline-service-operator crd:allowDangerousTypes=false paths="./..." \
		output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac
	go run ./hack/crd-descriptions config/crd/bases/*.yaml

.PHONY: generate
generate: ## Generate deepcopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./..."

.PHONY: bundle
bundle: manifests ## Generate the OLM bundle (bundle/, bundle.Dockerfile) from config/, and its catalog fragment (catalog/, opm render).
	VERSION=$(VERSION) CHANNELS=$(CHANNELS) go run ./hack/bundle
	hack/render-catalog.sh

.PHONY: dashboard
dashboard: ## Generate config/grafana/dashboard.json from internal/dashboard (Grafana Foundation SDK).
	go run ./hack/dashboard

.PHONY: docs
docs: manifests ## Generate docs/api.md from the CRD schemas.
	go run ./hack/apidocs > docs/api.md

# Files that make generate manifests bundle docs write. verify regenerates them and fails when
# anything changed: on a clean clone that means the committed copies were stale.
GENERATED = api/v1alpha1/zz_generated.deepcopy.go config/crd/bases config/crd/kustomization.yaml config/rbac/role.yaml bundle bundle.Dockerfile catalog docs/api.md config/grafana/dashboard.json

.PHONY: verify
verify: ## Fail when the committed generated files are stale (regenerates them).
	@before="$$(find $(GENERATED) -type f | sort | xargs sha256sum)"; \
	$(MAKE) --no-print-directory -j2 generate manifests bundle docs dashboard >/dev/null; \
	after="$$(find $(GENERATED) -type f | sort | xargs sha256sum)"; \
	if [ "$$before" != "$$after" ]; then \
		echo "generated files were stale and have been regenerated; review and commit them:"; \
		git --no-pager diff --stat -- $(GENERATED); exit 1; \
	fi

.PHONY: fmt
fmt: ## go fmt.
	go fmt ./...

.PHONY: vet
vet: ## go vet (and the ArgoCD health module's).
	go vet ./...
	cd hack/argocd-health && go vet ./...

.PHONY: envtest
envtest: ## Build the envtest kube-apiserver and etcd from source (once per machine).
	@hack/setup-envtest.sh >/dev/null

.PHONY: olm
olm: ## Build the real OLM (olm, catalog) and opm from source (once per machine).
	@hack/setup-olm.sh >/dev/null

# The envtest tests spend most of their time waiting on an API server, so six run at once
# rather than one per core (go test's default), on four shared control planes (suite_test.go).
# The controllers package is the longest (about 200 s on 2 cores, with the others beside it),
# so it is named first: go test starts it as soon as it is built rather than after the
# packages that sort before it (4m08s the other way round, 3m45s this way).
TEST_PARALLEL ?= 6

.PHONY: test
test: verify vet envtest olm validate-overlays ## Run every test against a real API server (envtest), with the real OLM.
	KUBEBUILDER_ASSETS="$$(hack/setup-envtest.sh)" OLM_ASSETS="$$(hack/setup-olm.sh)" go test $(GOTEST_FLAGS) -parallel $(TEST_PARALLEL) ./controllers/... ./... -count=1 -timeout 20m
	cd hack/argocd-health && go test $(GOTEST_FLAGS) ./... -count=1

.PHONY: validate-overlays
validate-overlays: ## Validate every overlay of config/samples/overlays as a GitOps repository's CI does: kustomize build, then manager validate.
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	for overlay in config/samples/overlays/*/; do \
		$(KUSTOMIZE) build "$$overlay" > "$$tmp/$$(basename "$$overlay").yaml"; \
	done; \
	go run . validate "$$tmp"/*.yaml

.PHONY: bench
bench: envtest ## Measure latency, writes, reconciles, memory and start-up; print the table (not part of test).
	KUBEBUILDER_ASSETS="$$(hack/setup-envtest.sh)" go run ./hack/bench $(BENCH_FLAGS)

##@ Build and run

.PHONY: build
build: ## Build the manager binary into bin/.
	go build -o bin/manager .

.PHONY: run
run: ## Run the operator: against $KUBECONFIG's cluster, or a local control plane without one (HOST=1: the host sample too; RUN_FLAGS=-v: debug logs).
	go run ./hack/localrun $(RUN_FLAGS)

.PHONY: import
import: ## Print the PipelineService that reproduces $KUBECONFIG's cluster (IMPORT_FLAGS: see `go run . import --help`).
	@go run . import $(IMPORT_FLAGS)

.PHONY: docker-build
docker-build: ## Build the container image (needs a Docker engine).
	docker build -t $(IMG) .
