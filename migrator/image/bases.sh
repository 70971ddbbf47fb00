#!/usr/bin/env bash
# Makes the two base images of the Dockerfile from this machine alone, for builds that cannot
# pull from a registry (CI here, air-gapped builders):
#   localhost/carthub-go:<version>   the machine's Go toolchain and a static busybox shell
#                                    (Debian's busybox-static) on an empty root
#   localhost/carthub-static:base    an empty root with CA certificates, /tmp and a nonroot user
# Usage: bases.sh ENGINE...   (e.g. bases.sh podman --runtime runc --cgroup-manager cgroupfs)
set -euo pipefail
engine=("$@")
[ ${#engine[@]} -gt 0 ] || { echo "usage: $0 ENGINE [ENGINE FLAGS...]" >&2; exit 2; }

goroot=$(go env GOROOT)
goversion=$(go env GOVERSION)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! "${engine[@]}" image exists "localhost/carthub-go:${goversion}" 2>/dev/null; then
  busybox=$(command -v busybox || true)
  if [ -z "$busybox" ] || ! { ldd "$busybox" 2>&1 || true; } | grep -q 'not a dynamic executable'; then
    echo "a static busybox is needed for the builder's shell: apt-get install busybox-static" >&2
    exit 1
  fi
  mkdir -p "$work/go/usr/local" "$work/go/tmp" "$work/go/etc" "$work/go/bin"
  cp -a "$goroot" "$work/go/usr/local/go"
  cp "$busybox" "$work/go/bin/busybox"
  for tool in sh cat ls mkdir rm cp mv; do ln -s busybox "$work/go/bin/$tool"; done
  rm -rf "$work/go/usr/local/go/pkg/tool/"*/{cover,vet,doc,fix,trace,pprof} "$work/go/usr/local/go/test" "$work/go/usr/local/go/api"
  chmod 1777 "$work/go/tmp"
  echo 'root:x:0:0:root:/root:/sbin/nologin' > "$work/go/etc/passwd"
  tar -C "$work/go" -c . | "${engine[@]}" import \
    --change 'ENV PATH=/usr/local/go/bin:/usr/bin:/bin' --change 'ENV GOROOT=/usr/local/go' \
    --change 'ENV GOTOOLCHAIN=local' --change 'ENV HOME=/tmp' - "localhost/carthub-go:${goversion}" >/dev/null
  echo "made localhost/carthub-go:${goversion}"
fi

if ! "${engine[@]}" image exists localhost/carthub-static:base 2>/dev/null; then
  mkdir -p "$work/static/etc/ssl/certs" "$work/static/tmp"
  chmod 1777 "$work/static/tmp"
  cp /etc/ssl/certs/ca-certificates.crt "$work/static/etc/ssl/certs/"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$work/static/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' > "$work/static/etc/group"
  tar -C "$work/static" -c . | "${engine[@]}" import - localhost/carthub-static:base >/dev/null
  echo "made localhost/carthub-static:base"
fi
