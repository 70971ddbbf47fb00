#!/usr/bin/env bash
# Prints the container engine command to use: docker when a Docker daemon answers, else podman
# with the settings this kind of machine needs (runc, cgroupfs). Exits 1 when there is neither.
set -euo pipefail
if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
  echo docker
elif command -v podman >/dev/null; then
  echo "podman --runtime runc --cgroup-manager cgroupfs"
else
  echo "no container engine: install podman (apt-get install -y podman runc) or run a Docker daemon" >&2
  exit 1
fi
