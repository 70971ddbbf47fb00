#!/usr/bin/env bash
# Builds kube-router's network-policy controller, the engine that enforces NetworkPolicies on the
# real node (node.sh), from the Go module proxy, once per version into a cache outside the clone
# (KUBE_CACHE, default ~/.cache/carthub-db/kube). Prints the binary's path.
#
# Its module has no replace directives, so go install builds it at the pinned version with the
# requirements of its own go.mod. Cold: 5-7 minutes on 2 cores; then nothing until the
# version changes. v2.1.0 is the only version the module proxy serves here; advisories are
# reported against it: it runs only on the test node, for the length of a test binary, with its
# health and metrics servers off and no route, service or BGP controller.
set -euo pipefail
KUBE_ROUTER_VERSION=v2.1.0 # github.com/cloudnativelabs/kube-router/v2
out="${KUBE_CACHE:-$HOME/.cache/carthub-db/kube}/kube-router-$KUBE_ROUTER_VERSION"
if [ -x "$out/kube-router" ]; then echo "$out/kube-router"; exit 0; fi
log() { printf '[kube-router build %s] %s\n' "$(date -u +%T)" "$*" >&2; }
log "github.com/cloudnativelabs/kube-router/v2 $KUBE_ROUTER_VERSION (once; 5-7 minutes on 2 cores)"
mkdir -p "$out"
pkg=github.com/cloudnativelabs/kube-router/v2
# Built into a temporary name and renamed: an interrupted build leaves no binary that looks done.
tmp=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
GOWORK=off GOFLAGS=-buildvcs=false CGO_ENABLED=0 GOBIN="$tmp" go install -trimpath \
  -ldflags "-s -w -X $pkg/pkg/version.Version=$KUBE_ROUTER_VERSION -X $pkg/pkg/version.BuildDate=1970-01-01T00:00:00Z" \
  "$pkg/cmd/kube-router@$KUBE_ROUTER_VERSION"
mv "$tmp/kube-router" "$out/kube-router"
log "built $out/kube-router"
echo "$out/kube-router"
