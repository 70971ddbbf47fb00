#!/usr/bin/env bash
# make image-test: show the architectures the image holds, then run each architecture's variant
# as it runs in the Job (read-only root filesystem, uid 65532) against a throwaway PostgreSQL:
# `up` migrates, `verify` passes, a second `up` is a no-op. A variant this machine cannot execute
# (arm64 without qemu-user-static and binfmt) is reported as not run, with the reason.
# Usage: test.sh IMAGE PLATFORMS ENGINE...
set -euo pipefail
image=$1 platforms=$2
shift 2
engine=("$@")
run=("${engine[@]}" run --rm --read-only --user 65532:65532 --network host
  --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --tmpfs /tmp)
fail() { echo "image-test: $*" >&2; exit 1; }

pgdir=$(mktemp -d)
chmod 755 "$pgdir" # the server runs as the postgres user when we are root
cleanup() { go run ./migrator/cmd/devdb --dir "$pgdir/pg" stop >/dev/null 2>&1 || true; rm -rf "$pgdir"; }
trap cleanup EXIT

# What the name holds: a manifest list with one image per platform.
if [ "${engine[0]}" = podman ]; then
  held=$("${engine[@]}" manifest inspect "$image" | sed -n 's/.*"architecture": *"\([^"]*\)".*/\1/p' | sort | paste -sd, -)
  echo "image-test: $image holds linux/{${held}}"
  IFS=',' read -r -a want <<<"$platforms"
  for p in "${want[@]}"; do
    case ",$held," in *",${p#linux/},"*) ;; *) fail "$image lacks ${p}" ;; esac
  done
fi

IFS=',' read -r -a list <<<"$platforms"
ran=0
for platform in "${list[@]}"; do
  arch=${platform#linux/}
  variant="$image-$arch"
  got=$("${engine[@]}" image inspect "$variant" --format '{{.Os}}/{{.Architecture}}')
  [ "$got" = "$platform" ] || fail "$variant is $got, want $platform"
  extra=()
  host=$(uname -m); host=${host/x86_64/amd64}; host=${host/aarch64/arm64}
  if [ "$arch" != "$host" ]; then
    if ! why=$(migrator/image/emulation.sh check); then
      echo "image-test: $variant ($platform) built but NOT RUN: this $host machine cannot execute $arch binaries: $why"
      continue
    fi
    # The handler's interpreter is looked up inside the container: lend it the static qemu.
    extra=(-v "$(command -v qemu-aarch64-static):$(migrator/image/emulation.sh interpreter):ro")
  fi
  url=$(go run ./migrator/cmd/devdb --dir "$pgdir/pg" --db "image_test_$arch" start)
  "${run[@]}" "${extra[@]}" -e DATABASE_URL="$url" "$variant" >"$pgdir/up.log" 2>&1 || { cat "$pgdir/up.log"; fail "$arch: up failed"; }
  grep -q '"msg":"migration complete","applied":5' "$pgdir/up.log" || { cat "$pgdir/up.log"; fail "$arch: up did not apply the 5 migrations"; }
  "${run[@]}" "${extra[@]}" -e DATABASE_URL="$url" "$variant" verify >"$pgdir/verify.log" 2>&1 || { cat "$pgdir/verify.log"; fail "$arch: verify failed"; }
  "${run[@]}" "${extra[@]}" -e DATABASE_URL="$url" "$variant" up >"$pgdir/noop.log" 2>&1 || { cat "$pgdir/noop.log"; fail "$arch: second up failed"; }
  grep -q 'nothing to apply' "$pgdir/noop.log" || { cat "$pgdir/noop.log"; fail "$arch: second up was not a no-op"; }
  user=$("${engine[@]}" inspect "$variant" --format '{{.Config.User}}')
  [ "$user" = "65532:65532" ] || fail "$variant runs as '$user', want 65532:65532"
  how="natively"; [ ${#extra[@]} -gt 0 ] && how="under qemu-aarch64-static"
  echo "image-test: $variant ($platform, $how) runs read-only as 65532: up applied 5 migrations, verify passed, second up was a no-op;" \
    "size $("${engine[@]}" image inspect "$variant" --format '{{.Size}}' | awk '{printf "%.1f MB", $1/1e6}')"
  ran=$((ran + 1))
done
[ "$ran" -gt 0 ] || fail "no variant of $image could run on this machine"
