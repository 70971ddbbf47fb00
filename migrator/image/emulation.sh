#!/usr/bin/env bash
# arm64 emulation for running the image's arm64 variant on an x86 machine.
#   emulation.sh enable   mount binfmt_misc and enable Debian's qemu-aarch64 handler (root)
#   emulation.sh check    exit 0 when arm64 binaries run here; print why not otherwise
#   emulation.sh interpreter   print the handler's interpreter path (to mount into containers)
set -euo pipefail
entry=/proc/sys/fs/binfmt_misc/qemu-aarch64
case "${1:-check}" in
  enable)
    [ "$(uname -m)" = aarch64 ] && exit 0
    command -v qemu-aarch64-static >/dev/null || { echo "emulation: qemu-user-static is not installed"; exit 1; }
    [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null \
      || { echo "emulation: cannot mount binfmt_misc here (not root, or the kernel forbids it)"; exit 1; }
    if command -v update-binfmts >/dev/null; then update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true; fi
    [ -e "$entry" ] && grep -q enabled "$entry" && echo "emulation: arm64 binaries run through qemu-aarch64-static" ;;
  check)
    [ "$(uname -m)" = aarch64 ] && exit 0
    if ! command -v qemu-aarch64-static >/dev/null; then echo "qemu-user-static is not installed (make container-tools)"; exit 1; fi
    if [ ! -e "$entry" ] || ! grep -q enabled "$entry"; then echo "the qemu-aarch64 binfmt handler is not enabled (make container-tools, as root)"; exit 1; fi ;;
  interpreter)
    sed -n 's/^interpreter //p' "$entry" ;;
esac
