#!/usr/bin/env bash
# Builds the migrator image for each platform and joins them under one name (a manifest list:
# one tag, one digest, every architecture). With --push, each platform's image and the list go
# to the registry (docker: the images are pushed first, the list is made in the registry).
#
#   build.sh [--push] IMAGE_NAME PLATFORMS ENGINE... -- BUILD_ARGS...
#     PLATFORMS   comma-separated, e.g. linux/amd64,linux/arm64
#
# Each platform's image is also tagged IMAGE_NAME-ARCH. With GO_BASE_PREFIX set (bases.sh's
# output), each platform builds on GO_BASE_PREFIX-ARCH.
#
# docker pushes plain image manifests (--provenance=false --sbom=false: a Docker on the containerd
# image store would otherwise push each variant as an index with an attestation) and joins them
# with `docker buildx imagetools create`, which reads the registry and takes images and indexes
# alike. The registry's tags are immutable: a retry after a failed push reuses each variant an
# earlier try pushed instead of pushing a rebuild under the same tag (which ECR refuses).
set -euo pipefail
push=false
if [ "${1:-}" = --push ]; then push=true; shift; fi
image=$1 platforms=$2
shift 2
engine=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do engine+=("$1"); shift; done
[ "${1:-}" = -- ] && shift
build_args=("$@")
[ ${#engine[@]} -gt 0 ] || { echo "usage: $0 [--push] IMAGE PLATFORMS ENGINE... -- BUILD_ARGS..." >&2; exit 2; }

variants=()
IFS=',' read -r -a list <<<"$platforms"
for platform in "${list[@]}"; do
  case "$platform" in
    linux/amd64 | linux/arm64) ;;
    *) echo "platform $platform: use linux/amd64 or linux/arm64 (what EKS nodes run)" >&2; exit 2 ;;
  esac
  variant="$image-${platform#linux/}"
  variants+=("$variant")
  if $push && [ "${engine[0]}" = docker ] && docker buildx imagetools inspect "$variant" >/dev/null 2>&1; then
    echo "$variant is already in the registry (an earlier try pushed it; tags are immutable): reusing it"
    continue
  fi
  echo "building $variant for $platform"
  base=() attest=()
  [ -n "${GO_BASE_PREFIX:-}" ] && base=(--build-arg "GO_IMAGE=$GO_BASE_PREFIX-${platform#linux/}")
  [ "${engine[0]}" = docker ] && attest=(--provenance=false --sbom=false)
  "${engine[@]}" build --platform "$platform" --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
    "${attest[@]}" "${build_args[@]}" "${base[@]}" -t "$variant" .
  if $push; then "${engine[@]}" push "$variant"; fi
done

case "${engine[0]}" in
  podman)
    "${engine[@]}" manifest rm "$image" >/dev/null 2>&1 || "${engine[@]}" rmi "$image" >/dev/null 2>&1 || true
    "${engine[@]}" manifest create "$image" >/dev/null
    # By image ID: a short name (carthub-database:TAG, the Makefile's default) resolves to
    # docker.io/library/... in containers-storage:, while podman stored it as localhost/...
    for v in "${variants[@]}"; do
      "${engine[@]}" manifest add "$image" "containers-storage:$("${engine[@]}" image inspect --format '{{.Id}}' "$v")" >/dev/null
    done
    if $push; then "${engine[@]}" manifest push --all "$image" "docker://$image"; fi ;;
  docker)
    if $push; then
      docker buildx imagetools create --tag "$image" "${variants[@]}"
    else
      # A local docker store holds no manifest lists: the last variant also gets the plain name.
      docker tag "${variants[-1]}" "$image"
    fi ;;
esac
echo "built $image for $platforms"
