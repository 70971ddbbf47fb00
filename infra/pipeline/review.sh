#!/usr/bin/env bash
# The Review project: lint what a CodeCommit pull request adds, on the source merged into the
# current destination, and put the verdict on the pull request: one comment (edited on each
# push, found again by its first line), and the Review role's approval when lint passes (revoked
# when it does not). It refuses, before linting:
#   - a conflict between the source and the destination;
#   - a migration file the destination already has whose content the pull request changes (it
#     is applied wherever the destination was deployed: a change never runs there);
#   - a new file whose version the destination took since the branch was made (another pull
#     request merged first): it names the version to renumber to.
# It names the post-deploy files (-- migrator:post-deploy), which wait for the rollout.
#
# Run in a clone whose HEAD is the pull request's source commit (CodeBuild's checkout), with:
#   PULL_REQUEST_ID     the pull request (the EventBridge rule passes it)
#   REPOSITORY_NAME     the CodeCommit repository
#   MIGRATOR            the migrator binary (default: built from the destination into a scratch directory)
#   JUNIT_FILE          where lint writes its JUnit XML (default: reports/lint-review.xml)
#   LINT_ARGS           more lint flags (e.g. --shape FILE); word-split
#   CODECOMMIT_ENDPOINT_URL  another CodeCommit endpoint (the tests' stand-in)
# Exit: 0 approved; 1 the script could not do its job; 2 refused before lint; 8 lint failed.
set -euo pipefail

: "${PULL_REQUEST_ID:?set PULL_REQUEST_ID (the EventBridge rule passes the pull request id)}"
: "${REPOSITORY_NAME:?set REPOSITORY_NAME (the CodeCommit repository)}"
JUNIT_FILE="${JUNIT_FILE:-reports/lint-review.xml}"
MIGRATIONS_DIR=migrations
MARKER="**migrator lint review**"
COMMENT_LIMIT=10000 # CodeCommit takes comments of up to 10,240 characters

die() { echo "review: $*" >&2; exit 1; }

cc() {
  # shellcheck disable=SC2086 # the endpoint flag is two words or none
  aws ${CODECOMMIT_ENDPOINT_URL:+--endpoint-url "$CODECOMMIT_ENDPOINT_URL"} codecommit "$@"
}

# The pull request as CodeCommit has it now: a push since the event started this build has its
# own build, so this one reviews only the commit it checked out.
read -r revision status source_commit destination_commit destination_ref < <(cc get-pull-request \
  --pull-request-id "$PULL_REQUEST_ID" --output text --query \
  'pullRequest.[revisionId, pullRequestStatus, pullRequestTargets[0].sourceCommit, pullRequestTargets[0].destinationCommit, pullRequestTargets[0].destinationReference]') ||
  die "cannot read pull request $PULL_REQUEST_ID of $REPOSITORY_NAME (aws codecommit get-pull-request failed: see above)"
[ -n "${destination_ref:-}" ] || die "pull request $PULL_REQUEST_ID has no target in $REPOSITORY_NAME"
if [ "$status" != OPEN ]; then
  echo "pull request $PULL_REQUEST_ID is $status: nothing to review"
  exit 0
fi
head_commit="$(git rev-parse HEAD)"
if [ "$head_commit" != "$source_commit" ]; then
  echo "pull request $PULL_REQUEST_ID is at $source_commit now, this build checked out $head_commit: the later push's build reviews it"
  exit 0
fi
destination_branch="${destination_ref#refs/heads/}"

# The destination as it is now, not as it was when the branch was made.
git fetch --quiet --no-tags origin "+$destination_ref:refs/remotes/origin/$destination_branch" ||
  die "cannot fetch $destination_ref from origin: check the build's git credentials (git-credential-helper) and codecommit:GitPull"
destination="$(git rev-parse "refs/remotes/origin/$destination_branch")"

scratch="$(mktemp -d)"
work="$scratch/merged"
trap 'git worktree remove --force "$work" >/dev/null 2>&1 || true; rm -rf "$scratch"' EXIT
git worktree add --quiet --detach "$work" "$destination"

short() { git rev-parse --short=12 "$1"; }
header="$MARKER for \`$(short "$source_commit")\` merged into \`$destination_branch\` at \`$(short "$destination")\`"

# comment posts the body as this pull request's review comment, or edits the one posted before.
comment() {
  local body="$header"$'\n\n'"$1" id
  if [ "${#body}" -gt "$COMMENT_LIMIT" ]; then
    body="${body:0:$((COMMENT_LIMIT - 200))}"$'\n\n'"… cut here: a comment holds at most 10,240 characters. The whole report is in the Review build's log and its Reports tab."
  fi
  id="$(cc get-comments-for-pull-request --pull-request-id "$PULL_REQUEST_ID" --repository-name "$REPOSITORY_NAME" --output text \
    --query "commentsForPullRequestData[].comments[] | [?deleted != \`true\` && starts_with(content, '$MARKER')].commentId | [0]")"
  if [ -n "$id" ] && [ "$id" != None ]; then
    cc update-comment --comment-id "$id" --content "$body" >/dev/null
    echo "updated comment $id on pull request $PULL_REQUEST_ID"
  else
    cc post-comment-for-pull-request --pull-request-id "$PULL_REQUEST_ID" --repository-name "$REPOSITORY_NAME" \
      --before-commit-id "$destination_commit" --after-commit-id "$source_commit" --content "$body" >/dev/null
    echo "posted a comment on pull request $PULL_REQUEST_ID"
  fi
}

# verdict approves this revision of the pull request or revokes the approval, and ends.
verdict() {
  local state=$1 code=$2
  if ! cc update-pull-request-approval-state --pull-request-id "$PULL_REQUEST_ID" --revision-id "$revision" --approval-state "$state" >/dev/null; then
    # A revision this role never approved has nothing to revoke; an approval that fails is an error.
    [ "$state" = REVOKE ] || die "cannot approve revision $revision of pull request $PULL_REQUEST_ID: see the error above (the role needs codecommit:UpdatePullRequestApprovalState)"
    echo "review: could not revoke on revision $revision (see above); the comment says why it is not approved" >&2
  fi
  echo "approval state of revision $revision: $state"
  exit "$code"
}

# refuse comments why the pull request cannot be linted or merged as it is, and revokes.
refuse() {
  comment "$1"
  echo "$1" >&2
  verdict REVOKE 2
}

# The merge the destination would get.
if ! git -C "$work" -c user.name="carthub-db review" -c user.email=review@invalid merge --quiet --no-ff --no-edit "$source_commit" >/dev/null 2>&1; then
  conflicts="$(git -C "$work" diff --name-only --diff-filter=U | while read -r f; do echo "- \`$f\`"; done)"
  refuse "❌ **Does not merge**: the source conflicts with \`$destination_branch\` as it is now, in:
$conflicts

Merge \`$destination_branch\` into your branch (or rebase onto it), resolve the conflicts and push: the review runs again."
fi

version_of() { basename "$1" | sed -n 's/^\([0-9]\{4,\}\)_.*\.sql$/\1/p'; }
is_migration() { [ -n "$(version_of "$1")" ] && [ "$(dirname "$1")" = "$MIGRATIONS_DIR" ]; }

# What the pull request changes in the migrations, against the destination.
changed=() added=()
while IFS=$'\t' read -r st path; do
  is_migration "$path" || continue
  case "$st" in
    A) added+=("$path") ;;
    *) changed+=("$path") ;;
  esac
done < <(git -C "$work" diff --no-renames --name-status "$destination" HEAD -- "$MIGRATIONS_DIR")

# The versions the destination has, highest last.
mapfile -t taken < <(git -C "$work" ls-tree --name-only "$destination" "$MIGRATIONS_DIR/" | while read -r f; do
  is_migration "$f" && echo "$f"; done | sort)
next=1
[ "${#taken[@]}" -eq 0 ] || next=$((10#$(version_of "${taken[-1]}") + 1))

if [ "${#changed[@]}" -gt 0 ]; then
  msg="❌ **Changes an applied migration**: \`$destination_branch\` already has"
  for f in "${changed[@]}"; do
    msg+=$'\n'"- \`$f\`, and this pull request changes (or removes) it"
  done
  msg+=$'\n\n'"Wherever \`$destination_branch\` was deployed that file has run: a change to it never runs there, and \`migrator up\` refuses the changed checksum. Restore it as \`$destination_branch\` has it and add a new file instead, \`$MIGRATIONS_DIR/$(printf '%04d' "$next")_<what it does>.sql\`."
  refuse "$msg"
fi

duplicates=""
renumber=$next
for f in "${added[@]}"; do
  v="$(version_of "$f")"
  for t in "${taken[@]}"; do
    if [ "$(version_of "$t")" = "$v" ]; then
      to="$MIGRATIONS_DIR/$(printf '%04d' "$renumber")_${f#"$MIGRATIONS_DIR/$v"_}"
      duplicates+=$'\n'"- \`$f\`: \`$destination_branch\` has taken $v since your branch was made (\`$t\`). Renumber yours to $(printf '%04d' "$renumber"): \`git mv $f $to\`, then push."
      renumber=$((renumber + 1))
    fi
  done
done
if [ -n "$duplicates" ]; then
  refuse "❌ **Version taken**: another pull request merged the same version first.$duplicates"
fi

if [ "${#added[@]}" -eq 0 ]; then
  comment "✅ No new migration files: nothing for lint to check."
  verdict APPROVE 0
fi

first="$(printf '%s\n' "${added[@]}" | sort | head -n1)"
first=$((10#$(version_of "$first")))
post_deploy=""
for f in "${added[@]}"; do
  if grep -qxE '[[:space:]]*-- migrator:post-deploy[[:space:]]*' "$work/$f"; then
    post_deploy+=$'\n'"- \`$f\` waits for the rollout: \`migrator up\` stops before it; the pipeline's PostDeploy stage runs it once the application's new version is out."
  fi
done

if [ -z "${MIGRATOR:-}" ]; then
  # The destination's migrator, not the pull request's: a change to lint is reviewed by the lint
  # it changes only after it merged.
  MIGRATOR="$scratch/migrator"
  echo "building the migrator of $destination_branch ($(short "$destination"))"
  git worktree add --quiet --detach "$scratch/destination" "$destination"
  (cd "$scratch/destination" && CGO_ENABLED=0 go build -trimpath -o "$MIGRATOR" ./migrator/cmd/migrator) ||
    die "cannot build the migrator of $destination_branch: see the go build error above"
fi

mkdir -p "$(dirname "$JUNIT_FILE")"
report="$scratch/report.md"
echo "linting $MIGRATIONS_DIR from version $first on the merge of $(short "$source_commit") into $destination_branch"
rc=0
# shellcheck disable=SC2086 # LINT_ARGS holds flags, word-split on purpose
"$MIGRATOR" lint --dir "$work/$MIGRATIONS_DIR" --from "$first" --format markdown --output "$report" --junit "$JUNIT_FILE" \
  --log-level warn ${LINT_ARGS:-} 2>"$scratch/lint.err" || rc=$?
cat "$scratch/lint.err" >&2
cat "$report" 2>/dev/null || true

body=""
[ -z "$post_deploy" ] || body+="**Post-deploy files**:$post_deploy"$'\n\n'
case "$rc" in
  0)
    comment "$body$(cat "$report")"
    verdict APPROVE 0
    ;;
  8)
    comment "$body$(cat "$report")

Fix each finding as it says, or allow one you accept with a reason on the line above the statement: \`-- migrator:allow RULE-ID: reason\`. Push, and the review runs again."
    verdict REVOKE 8
    ;;
  *)
    comment "$body❌ **Lint could not run** (exit $rc):
\`\`\`
$(tail -n 20 "$scratch/lint.err")
\`\`\`"
    verdict REVOKE 1
    ;;
esac
