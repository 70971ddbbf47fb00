#!/usr/bin/env bash
# Deploy stage of the pipeline: apply the synthesized manifests and run the migration Job once.
#
#   deploy.sh [MANIFEST_DIR]      (default: k8s; holds namespace.yaml, network-policies.yaml,
#                                  migration-job.yaml as k8s-synth writes them)
#
# Environment: CLUSTER_NAME and AWS_REGION (for aws eks update-kubeconfig; without CLUSTER_NAME
# the current kubeconfig is used), NAMESPACE (shopping-cart), JOB_NAME (database-migration),
# JOB_TIMEOUT seconds to wait for the Job (1800), POLL_SECONDS (5).
#
# Exit: 0 the Job completed; 1 the Job failed (its logs and termination message are printed);
# 2 it did not finish within JOB_TIMEOUT; 3 a manifest or the cluster could not be reached.
set -euo pipefail

manifests=${1:-k8s}
namespace=${NAMESPACE:-shopping-cart}
job=${JOB_NAME:-database-migration}
timeout=${JOB_TIMEOUT:-1800}
poll=${POLL_SECONDS:-5}

log() { printf '[deploy] %s\n' "$*"; }
die() { code=$1; shift; printf '[deploy] ERROR: %s\n' "$*" >&2; exit "$code"; }

for f in namespace.yaml network-policies.yaml migration-job.yaml; do
  [ -f "$manifests/$f" ] || die 3 "$manifests/$f is missing: the build stage writes it with k8s-synth (make k8s)"
done

if [ -n "${CLUSTER_NAME:-}" ]; then
  log "kubeconfig for cluster $CLUSTER_NAME"
  aws eks update-kubeconfig --name "$CLUSTER_NAME" --region "${AWS_REGION:?AWS_REGION must be set with CLUSTER_NAME}" >/dev/null \
    || die 3 "aws eks update-kubeconfig failed for $CLUSTER_NAME"
fi

# The deploy role's access entry is limited to the namespace, so a cluster admin creates the
# namespace once; apply it here only where this role may.
if kubectl auth can-i patch namespaces --all-namespaces >/dev/null 2>&1; then
  log "applying $manifests/namespace.yaml"
  kubectl apply -f "$manifests/namespace.yaml"
else
  log "namespace $namespace is managed by a cluster admin (this role may not patch namespaces); not applying namespace.yaml"
fi

log "applying NetworkPolicies"
kubectl apply -n "$namespace" -f "$manifests/network-policies.yaml" || die 3 "applying the NetworkPolicies failed"

# A Job's pod template is immutable: remove the previous run, then create this one.
log "replacing Job $job"
kubectl delete job "$job" -n "$namespace" --ignore-not-found --wait=true --cascade=foreground || die 3 "deleting the previous Job failed"
kubectl apply -n "$namespace" -f "$manifests/migration-job.yaml" || die 3 "creating the Job failed"

show_result() {
  log "logs of job/$job:"
  kubectl logs "job/$job" -n "$namespace" --all-containers=true --tail=-1 || true
  local msg
  msg=$(kubectl get pods -n "$namespace" -l "job-name=$job" \
    -o jsonpath='{range .items[*]}{.status.containerStatuses[*].state.terminated.message}{end}' 2>/dev/null || true)
  [ -n "$msg" ] && log "termination message: $msg"
  return 0
}

log "waiting up to ${timeout}s for Job $job"
deadline=$((SECONDS + timeout))
while :; do
  conditions=$(kubectl get job "$job" -n "$namespace" \
    -o jsonpath='{range .status.conditions[?(@.status=="True")]}{.type}{" "}{end}') || die 3 "reading the Job's status failed"
  case " $conditions " in
    *" Complete "*)
      show_result
      log "Job $job completed"
      exit 0 ;;
    *" Failed "*)
      show_result
      reason=$(kubectl get job "$job" -n "$namespace" -o jsonpath='{.status.conditions[?(@.type=="Failed")].reason}' || true)
      die 1 "Job $job failed (${reason:-no reason given})" ;;
  esac
  if [ "$SECONDS" -ge "$deadline" ]; then
    show_result
    die 2 "Job $job did not finish within ${timeout}s; it keeps running: kubectl get jobs -n $namespace"
  fi
  sleep "$poll"
done
