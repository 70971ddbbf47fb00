#!/usr/bin/env bash
# make image-test: run the built image as it runs in the Job (read-only root filesystem, uid
# 65532) against a throwaway PostgreSQL: `up` migrates, `verify` passes, a second `up` is a no-op.
# Usage: test.sh IMAGE ENGINE...
set -euo pipefail
image=$1
shift
engine=("$@")
run=("${engine[@]}" run --rm --read-only --user 65532:65532 --network host
  --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --tmpfs /tmp)

pgdir=$(mktemp -d)
chmod 755 "$pgdir" # the server runs as the postgres user when we are root
cleanup() { go run ./migrator/cmd/devdb --dir "$pgdir/pg" stop >/dev/null 2>&1 || true; rm -rf "$pgdir"; }
trap cleanup EXIT
url=$(go run ./migrator/cmd/devdb --dir "$pgdir/pg" --db image_test start)

fail() { echo "image-test: $*" >&2; exit 1; }
"${run[@]}" -e DATABASE_URL="$url" "$image" >"$pgdir/up.log" 2>&1 || { cat "$pgdir/up.log"; fail "up failed"; }
grep -q '"msg":"migration complete","applied":5' "$pgdir/up.log" || { cat "$pgdir/up.log"; fail "up did not apply the 5 migrations"; }
"${run[@]}" -e DATABASE_URL="$url" "$image" verify >"$pgdir/verify.log" 2>&1 || { cat "$pgdir/verify.log"; fail "verify failed"; }
"${run[@]}" -e DATABASE_URL="$url" "$image" up >"$pgdir/noop.log" 2>&1 || { cat "$pgdir/noop.log"; fail "second up failed"; }
grep -q 'nothing to apply' "$pgdir/noop.log" || { cat "$pgdir/noop.log"; fail "second up was not a no-op"; }
user=$("${engine[@]}" inspect "$image" --format '{{.Config.User}}')
[ "$user" = "65532:65532" ] || fail "image runs as '$user', want 65532:65532"
echo "image-test: $image runs read-only as 65532: up applied 5 migrations, verify passed, second up was a no-op"
echo "image-test: size $("${engine[@]}" image inspect "$image" --format '{{.Size}}' | awk '{printf "%.1f MB", $1/1e6}')"
