#!/usr/bin/env bash
# Deploy stage of the pipeline: run the migration Job once and report how it ended.
#
#   deploy.sh [MANIFEST_DIR]      (default: k8s; holds migration-job.yaml as k8s-synth writes it)
#
# The namespace and its NetworkPolicies are not applied here: the Cluster stack creates them
# (cdk deploy) from the same k8s-synth code, before the pipeline exists, so the deploy role
# needs no right outside the namespace.
#
# Environment: CLUSTER_NAME and AWS_REGION (for aws eks update-kubeconfig; without CLUSTER_NAME
# the current kubeconfig is used), NAMESPACE (shopping-cart), JOB_NAME (database-migration),
# UNSCHEDULABLE_GRACE seconds a pod may stay unschedulable before the run fails with the
# scheduler's reason (300: time for the node group to add a node), POST_DEPLOY=true (the
# PostDeploy stage: the same Job with MIGRATOR_POST_DEPLOY=true, which also applies the files
# marked -- migrator:post-deploy), SHAPE_URI and STATEMENTS_URI (s3:// objects: where the table
# shape and the statements production runs, which the Job logs, are stored for the Build and
# Review stages' lint), JOB_TIMEOUT seconds to wait (default and minimum: the Job's
# activeDeadlineSeconds plus
# DEADLINE_MARGIN, 120 s, for scheduling and image pulls), POLL_SECONDS (5), KUBECTL (kubectl).
#
# Exit: 0 the Job completed; 1 the Job failed or cannot start (every attempt's logs, the Job's
# conditions and the namespace's events are printed); 2 it did not finish in time; 3 a manifest
# or the cluster could not be reached; 4 the previous migration Job is still running.
set -euo pipefail

manifests=${1:-k8s}
namespace=${NAMESPACE:-shopping-cart}
job=${JOB_NAME:-database-migration}
poll=${POLL_SECONDS:-5}
kubectl=${KUBECTL:-kubectl}
job_file="$manifests/migration-job.yaml"

log() { printf '[deploy] %s\n' "$*"; }
die() { code=$1; shift; printf '[deploy] ERROR: %s\n' "$*" >&2; exit "$code"; }
k() { "$kubectl" "$@"; }

[ -f "$job_file" ] || die 3 "$job_file is missing: the build stage writes it with k8s-synth (make k8s)"

# Never wait less than the Job may run: a stage that gives up early would leave a running
# migration behind for the next run to meet.
deadline_s=$(sed -n 's/^ *activeDeadlineSeconds: *\([0-9][0-9]*\).*/\1/p' "$job_file" | head -n1)
[ -n "$deadline_s" ] || die 3 "$job_file has no activeDeadlineSeconds: regenerate it with make k8s"
min_timeout=$((deadline_s + ${DEADLINE_MARGIN:-120}))
timeout=${JOB_TIMEOUT:-$min_timeout}
if [ "$timeout" -lt "$min_timeout" ]; then
  log "JOB_TIMEOUT=${timeout}s is shorter than the Job's deadline (${deadline_s}s); waiting ${min_timeout}s"
  timeout=$min_timeout
fi

if [ -n "${CLUSTER_NAME:-}" ]; then
  log "kubeconfig for cluster $CLUSTER_NAME"
  aws eks update-kubeconfig --name "$CLUSTER_NAME" --region "${AWS_REGION:?AWS_REGION must be set with CLUSTER_NAME}" >/dev/null \
    || die 3 "aws eks update-kubeconfig failed for $CLUSTER_NAME"
fi
# Read whole, then cut: a pipe into head would end kubectl with SIGPIPE, which pipefail reports.
if version=$(k version --client 2>/dev/null); then log "${version%%$'\n'*}"; else log "kubectl version unknown"; fi

# The previous run's Job: remove it when it has finished; refuse to touch it while it runs.
if state=$(k get job "$job" -n "$namespace" --ignore-not-found \
    -o jsonpath='{.metadata.name}|{range .status.conditions[?(@.status=="True")]}{.type} {end}|{.status.active}|{.status.startTime}' 2>&1); then
  :
else
  die 3 "reading Job $job in namespace $namespace failed: $state (does the namespace exist? the Cluster stack creates it: cdk deploy)"
fi
# started_pods counts the pods of the Job whose container got to run (phase past Pending): a Job
# without one never ran the migrator, so removing it interrupts nothing.
started_pods() {
  k get pods -n "$namespace" -l "job-name=$job" -o jsonpath='{range .items[*]}{.status.phase}{"\n"}{end}' 2>/dev/null \
    | grep -cvE '^(Pending)?$' || true
}
if [ -n "$state" ]; then
  IFS='|' read -r _ finished active started <<<"$state"
  case " $finished " in
    *" Complete "* | *" Failed "*)
      log "removing the finished Job $job (${finished% })"
      k delete job "$job" -n "$namespace" --ignore-not-found --wait=true --cascade=background || die 3 "deleting the finished Job $job failed" ;;
    *)
      if [ "$(started_pods)" = 0 ]; then
        log "removing the Job $job that never started the migrator (an earlier run stopped while it could not start)"
        k delete job "$job" -n "$namespace" --ignore-not-found --wait=true --cascade=foreground || die 3 "deleting the Job $job failed"
      else
        die 4 "Job $job in $namespace is still running (active pods: ${active:-0}, started ${started:-not yet}): a migration is never interrupted. Wait for it (kubectl get job $job -n $namespace -w), then retry this stage."
      fi ;;
  esac
fi

if [ "${POST_DEPLOY:-false}" = true ]; then
  # The same Job spec, with one setting more: kubectl edits the manifest locally.
  post_file=$(mktemp)
  trap 'rm -f "$post_file"' EXIT
  k set env --local -f "$job_file" MIGRATOR_POST_DEPLOY=true -o yaml >"$post_file" \
    || die 3 "adding MIGRATOR_POST_DEPLOY=true to $job_file failed"
  job_file=$post_file
  log "creating Job $job for the post-deploy migrations (MIGRATOR_POST_DEPLOY=true)"
else
  log "creating Job $job"
fi
k apply -n "$namespace" -f "$job_file" || die 3 "creating the Job failed (does namespace $namespace exist? the Cluster stack creates it: cdk deploy)"
# This run's Job, by uid: events and objects of an earlier Job of the same name are not its own.
uid=$(k get job "$job" -n "$namespace" -o jsonpath='{.metadata.uid}') || die 3 "reading the new Job's uid failed"

# pods prints this Job's pods (by its uid), oldest first: one line per attempt.
pods() {
  k get pods -n "$namespace" -l "batch.kubernetes.io/controller-uid=$uid" --sort-by=.metadata.creationTimestamp \
    -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}' 2>/dev/null || true
}

show_attempts() {
  local n=0 pod msg
  for pod in $(pods); do
    n=$((n + 1))
    log "attempt $n: pod $pod"
    k logs "$pod" -n "$namespace" --all-containers=true --tail=-1 2>&1 || true
    msg=$(k get pod "$pod" -n "$namespace" -o jsonpath='{.status.containerStatuses[*].state.terminated.message}' 2>/dev/null || true)
    [ -n "$msg" ] && log "attempt $n termination message: $msg"
  done
  [ "$n" -gt 0 ] || log "no pod of Job $job was created"
  return 0
}

# store_logged keeps what the Job logged after a run that applied something in an S3 object the
# next Build and Review stages' lint reads: the table shape (its tables' planner statistics, never
# a row) in SHAPE_URI, the statements production runs (pg_stat_statements' normalized texts, no
# literal, no comment) in STATEMENTS_URI. A run that applied nothing logs neither: the last ones
# stay. Failing to store does not fail the stage: the migration itself completed.
store_logged() {
  [ -n "${SHAPE_URI:-}${STATEMENTS_URI:-}" ] || return 0
  local pod lines
  pod=$(pods | tail -n1)
  lines=$(k logs "$pod" -n "$namespace" --tail=-1 2>/dev/null || true)
  store_line "$lines" "table shape" .shape "${SHAPE_URI:-}" "table shape"
  store_line "$lines" "application statements" .statements "${STATEMENTS_URI:-}" "production's statements"
  return 0
}

# store_line LINES MSG FIELD URI WHAT stores FIELD of the last log line whose msg is MSG in URI:
# a JSON value as JSON, a string as its text.
store_line() {
  local lines=$1 msg=$2 field=$3 uri=$4 what=$5 line
  [ -n "$uri" ] || return 0
  line=$(printf '%s\n' "$lines" | grep -F "\"msg\":\"$msg\"" | tail -n1 || true)
  if [ -z "$line" ]; then
    log "the Job logged no $msg (it applied nothing, or could not read it): lint keeps the last one"
    return 0
  fi
  if printf '%s' "$line" | jq -er "$field | if type == \"string\" then . else tojson end" | aws s3 cp - "$uri" --only-show-errors; then
    log "$what stored in $uri"
  else
    log "WARNING: could not store $what in $uri; lint keeps the last one"
  fi
}

show_failure() {
  show_attempts
  log "conditions of Job $job:"
  k get job "$job" -n "$namespace" \
    -o jsonpath='{range .status.conditions[*]}  {.type}={.status} {.reason}: {.message}{"\n"}{end}' 2>&1 || true
  log "events of this Job and its pods, oldest first:"
  {
    k get events -n "$namespace" --field-selector "involvedObject.uid=$uid" --no-headers \
      -o custom-columns='TIME:.metadata.creationTimestamp,TYPE:.type,REASON:.reason,OBJECT:.involvedObject.name,MESSAGE:.message' 2>/dev/null || true
    for pod in $(pods); do
      k get events -n "$namespace" --field-selector "involvedObject.kind=Pod,involvedObject.name=$pod" --no-headers \
        -o custom-columns='TIME:.metadata.creationTimestamp,TYPE:.type,REASON:.reason,OBJECT:.involvedObject.name,MESSAGE:.message' 2>/dev/null || true
    done
  } | sort | tail -n 30
}

# hopeless finds a state no amount of waiting fixes and says why in $why: an image that cannot be
# pulled, a container that cannot be configured, a pod that Pod Security admission rejects, a pod
# no node takes within UNSCHEDULABLE_GRACE. It runs in this shell, not a subshell, so that it
# remembers since when a pod has been unschedulable.
hopeless() {
  local reasons rejected unschedulable
  reasons=$(k get pods -n "$namespace" -l "batch.kubernetes.io/controller-uid=$uid" \
    -o jsonpath='{range .items[*]}{range .status.containerStatuses[*]}{.state.waiting.reason}{" "}{end}{end}' 2>/dev/null || true)
  for r in $reasons; do
    case "$r" in
      ImagePullBackOff | ErrImagePull | InvalidImageName)
        why="$r: the node cannot pull the image; check the image reference and that the nodes' architecture is in the image (make image-test prints it)"; return 0 ;;
      CreateContainerConfigError | CreateContainerError)
        why="$r: a Secret, ConfigMap or ServiceAccount the pod needs is missing or wrong (see the events below)"; return 0 ;;
    esac
  done
  rejected=$(k get events -n "$namespace" --field-selector "involvedObject.uid=$uid,reason=FailedCreate" \
    -o jsonpath='{range .items[*]}{.message}{"\n"}{end}' 2>/dev/null || true)
  if [ -n "$rejected" ]; then
    why="the Job cannot create its pod: ${rejected%%$'\n'*}"
    return 0
  fi
  # A pod no node can take: the scheduler says why (no node of its architecture, not enough memory).
  unschedulable=$(k get pods -n "$namespace" -l "batch.kubernetes.io/controller-uid=$uid" \
    -o jsonpath='{range .items[*]}{range .status.conditions[?(@.reason=="Unschedulable")]}{.message}{"\n"}{end}{end}' 2>/dev/null || true)
  if [ -n "$unschedulable" ]; then
    [ -n "$unschedulable_since" ] || unschedulable_since=$SECONDS
    if [ $((SECONDS - unschedulable_since)) -ge "${UNSCHEDULABLE_GRACE:-300}" ]; then
      why="no node can run the pod (unschedulable for ${UNSCHEDULABLE_GRACE:-300}s): ${unschedulable%%$'\n'*}"
      return 0
    fi
  else
    unschedulable_since=
  fi
  return 1
}
unschedulable_since=

log "waiting up to ${timeout}s for Job $job (its deadline is ${deadline_s}s)"
end=$((SECONDS + timeout))
while :; do
  conditions=$(k get job "$job" -n "$namespace" \
    -o jsonpath='{range .status.conditions[?(@.status=="True")]}{.type}{" "}{end}') || die 3 "reading the Job's status failed"
  case " $conditions " in
    *" Complete "*)
      show_attempts
      log "Job $job completed"
      store_logged
      exit 0 ;;
    *" Failed "*)
      show_failure
      reason=$(k get job "$job" -n "$namespace" -o jsonpath='{.status.conditions[?(@.type=="Failed")].reason}' || true)
      die 1 "Job $job failed (${reason:-no reason given})" ;;
  esac
  if hopeless; then
    show_failure
    # Its migrator never ran: remove it, so that it cannot start later with nobody watching, and
    # the next run does not meet it.
    k delete job "$job" -n "$namespace" --ignore-not-found --wait=false --cascade=foreground >/dev/null 2>&1 || true
    die 1 "Job $job cannot run: $why. The Job is removed (its migrator never started); fix the cause and run this stage again."
  fi
  if [ "$SECONDS" -ge "$end" ]; then
    show_failure
    die 2 "Job $job did not finish within ${timeout}s; it keeps running: kubectl get jobs -n $namespace"
  fi
  sleep "$poll"
done
