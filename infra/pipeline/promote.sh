#!/usr/bin/env bash
# Promotes a commit's image: copies the image list SOURCE:TAG pushed by the source environment
# (dev), and each platform image it names, into this environment's repository DEST by digest,
# so this environment runs an image it owns: dev's lifecycle rules may expire dev's copy, a
# late promotion or a rollback still finds this one. Digests do not change in a copy; the Job
# names the image by digest. The list gets TAG, each platform image TAG-ARCH (as build.sh
# tags them), so that age-based expiry takes them together. Prints the list's digest.
#
#   promote.sh SOURCE_REPOSITORY TAG DEST_REPOSITORY       (CRANE: the crane binary, default crane)
#
# A rerun finds the copies and prints the same digest; a DEST tag that holds another image is
# an error (tags are immutable: a commit's tag always means one image).
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: $0 SOURCE_REPOSITORY TAG DEST_REPOSITORY" >&2; exit 2; }
src=$1 tag=$2 dst=$3
crane=${CRANE:-crane}

digest=$("$crane" digest "$src:$tag" 2>/dev/null) ||
  { echo "commit $tag has no image in $src: run it through that environment's pipeline first" >&2; exit 1; }

# copy REF TAG: REF (src@digest) to dst:TAG unless dst:TAG already holds that digest.
copy() {
  local want=${1#*@} have
  if have=$("$crane" digest "$dst:$2" 2>/dev/null); then
    [ "$have" = "$want" ] || { echo "$dst:$2 already holds $have, not $want from $src: tags are immutable; find out which pipeline pushed it" >&2; exit 1; }
    echo "$dst:$2 already holds $want" >&2
    return
  fi
  "$crane" copy "$1" "$dst:$2" >&2
}

manifest=$("$crane" manifest "$src@$digest")
case "$(jq -r '.mediaType // empty' <<<"$manifest")" in
  application/vnd.oci.image.index.v1+json | application/vnd.docker.distribution.manifest.list.v2+json)
    # The platform images first: the list is copied last, once everything it names is there.
    while read -r child arch; do
      [ "$arch" = unknown ] && continue # an attestation manifest, not a platform image
      copy "$src@$child" "$tag-$arch"
    done < <(jq -r '.manifests[] | "\(.digest) \(.platform.architecture // "unknown")"' <<<"$manifest") ;;
esac
copy "$src@$digest" "$tag"
echo "$digest"
