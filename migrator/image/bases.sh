#!/usr/bin/env bash
# Makes the Go base image of the Dockerfile from this machine alone, for builds that cannot pull
# from a registry (CI here, air-gapped builders):
#   localhost/carthub-go:<go version>-<hash of this script>
#                                    the machine's Go toolchain, its CA certificates and a static
#                                    busybox shell (Debian's busybox-static) on an empty root
# The runtime stage starts FROM scratch, so it needs no base. The toolchain is imported twice,
# as NAME-amd64 and NAME-arm64: the same x86 files under both labels, because podman 4.3 does not
# honour the Dockerfile's `FROM --platform=$BUILDPLATFORM` and looks for a base of the target's
# architecture; the build stage only ever runs on this machine and cross-compiles with GOARCH.
# Usage: bases.sh ENGINE...   (e.g. bases.sh podman --runtime runc --cgroup-manager cgroupfs)
# Prints NAME on stdout.
set -euo pipefail
engine=("$@")
[ ${#engine[@]} -gt 0 ] || { echo "usage: $0 ENGINE [ENGINE FLAGS...]" >&2; exit 2; }

goroot=$(go env GOROOT)
goversion=$(go env GOVERSION)
name="localhost/carthub-go:${goversion}-$(sha256sum "$0" | cut -c1-8)"
if "${engine[@]}" image exists "$name-amd64" 2>/dev/null && "${engine[@]}" image exists "$name-arm64" 2>/dev/null; then
  echo "$name"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
busybox=$(command -v busybox || true)
if [ -z "$busybox" ] || ! { ldd "$busybox" 2>&1 || true; } | grep -q 'not a dynamic executable'; then
  echo "a static busybox is needed for the builder's shell: apt-get install busybox-static" >&2
  exit 1
fi
mkdir -p "$work/go/usr/local" "$work/go/tmp" "$work/go/etc/ssl/certs" "$work/go/bin"
cp -a "$goroot" "$work/go/usr/local/go"
cp "$busybox" "$work/go/bin/busybox"
for tool in sh cat ls mkdir rm cp mv chmod printf; do ln -s busybox "$work/go/bin/$tool"; done
cp /etc/ssl/certs/ca-certificates.crt "$work/go/etc/ssl/certs/"
rm -rf "$work/go/usr/local/go/pkg/tool/"*/{cover,vet,doc,fix,trace,pprof} "$work/go/usr/local/go/test" "$work/go/usr/local/go/api"
chmod 1777 "$work/go/tmp"
echo 'root:x:0:0:root:/root:/sbin/nologin' > "$work/go/etc/passwd"
for arch in amd64 arm64; do
  tar -C "$work/go" -c . | "${engine[@]}" import --arch "$arch" \
    --change 'ENV PATH=/usr/local/go/bin:/usr/bin:/bin' --change 'ENV GOROOT=/usr/local/go' \
    --change 'ENV GOTOOLCHAIN=local' --change 'ENV HOME=/tmp' - "$name-$arch" >/dev/null
done
echo "made $name-amd64 and $name-arm64" >&2
echo "$name"
