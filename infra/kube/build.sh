#!/usr/bin/env bash
# Builds the Kubernetes control plane the cluster tests run against, from the Go module proxy,
# once per version into a cache outside the clone (KUBE_CACHE, default ~/.cache/carthub-db/kube):
# etcd, kube-apiserver, kube-controller-manager and kube-scheduler of the cluster's minor (EKS
# 1.35), kwok for nodes and pod lifecycles without a kubelet, and the kubelet of the same version
# for the one real node (node.sh). Prints the bin directory.
#
# Cold: about 30 CPU-minutes and 2 GB of memory (the kubelet, built last from the same scratch
# module and build cache, adds about 3 minutes); then nothing until a version below changes.
set -euo pipefail
K8S_VERSION=v1.35.4    # k8s.io/kubernetes; its staging modules are v0.35.4
ETCD_VERSION=v3.6.8    # go.etcd.io/etcd/server/v3
KWOK_VERSION=v0.8.0    # sigs.k8s.io/kwok
staging=v0${K8S_VERSION#v1}
out="${KUBE_CACHE:-$HOME/.cache/carthub-db/kube}/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION/bin"
bins=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok kubelet)
have=0
for b in "${bins[@]}"; do [ -x "$out/$b" ] && have=$((have + 1)); done
if [ "$have" = "${#bins[@]}" ]; then echo "$out"; exit 0; fi

export GOWORK=off GOFLAGS="-mod=mod -buildvcs=false" CGO_ENABLED=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
log() { printf '[kube build %s] %s\n' "$(date -u +%T)" "$*" >&2; }

# k8s.io/kubernetes is not meant to be required: its go.mod points every staging module at
# ./staging. A scratch module requires it and sends each of those to its published version.
log "k8s.io/kubernetes $K8S_VERSION (staging modules $staging)"
mkdir "$work/k8s" && cd "$work/k8s"
go mod init carthub.local/kubebuild >/dev/null 2>&1
printf '//go:build tools\n\npackage tools\n\nimport (\n\t_ "k8s.io/kubernetes/cmd/kube-apiserver"\n\t_ "k8s.io/kubernetes/cmd/kube-controller-manager"\n\t_ "k8s.io/kubernetes/cmd/kube-scheduler"\n\t_ "k8s.io/kubernetes/cmd/kubelet"\n)\n' >tools.go
modfile=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')
go mod edit -require="k8s.io/kubernetes@$K8S_VERSION"
while read -r m; do
  go mod edit -replace="$m=$m@$staging"
done < <(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p' "$modfile")
go mod tidy >/dev/null 2>&1 || go mod tidy
# kubectl and the components parse the server's version from these: without them it is v0.0.0.
minor=$(cut -d. -f2 <<<"$K8S_VERSION")
ld="-s -w"
for p in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
  ld+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
  ld+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
done
control_plane=(kube-apiserver kube-controller-manager kube-scheduler)
missing=()
for b in "${control_plane[@]}"; do [ -x "$out/$b" ] || missing+=("k8s.io/kubernetes/cmd/$b"); done
[ ${#missing[@]} = 0 ] || go build -trimpath -ldflags "$ld" -o "$out/" "${missing[@]}"
# The kubelet after the control plane, with the packages they share already compiled: what it adds
# to a cold build is this step alone (the log's timestamps show it).
if [ ! -x "$out/kubelet" ]; then
  log "k8s.io/kubernetes/cmd/kubelet $K8S_VERSION"
  go build -trimpath -ldflags "$ld" -o "$out/kubelet" k8s.io/kubernetes/cmd/kubelet
  log "kubelet built"
fi

# etcd's server module has replace directives, so go install refuses it: a scratch module again.
if [ ! -x "$out/etcd" ]; then
  log "go.etcd.io/etcd/server/v3 $ETCD_VERSION"
  mkdir "$work/etcd" && cd "$work/etcd"
  go mod init carthub.local/etcdbuild >/dev/null 2>&1
  printf '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' >tools.go
  go mod edit -require="go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  go mod tidy >/dev/null 2>&1 || go mod tidy
  go build -trimpath -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3
fi

if [ ! -x "$out/kwok" ]; then
  log "sigs.k8s.io/kwok $KWOK_VERSION"
  GOBIN="$out" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
fi
log "built in $out"
echo "$out"
