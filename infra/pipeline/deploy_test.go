package pipeline

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeKubectl stands in for kubectl where the real control plane (cluster_test.go) cannot show
// a case: EKS's update-kubeconfig, a Job that stays running, a wait that times out. It records
// every call and answers from FAKE_* variables.
//
//	FAKE_PREVIOUS   the previous Job's state line ("" none; "database-migration|Complete |0|T" etc.)
//	FAKE_RESULT     the new Job's condition once FAKE_DONE_AFTER polls have passed (never: none)
//	FAKE_WAITING    a container waiting reason of the new Job's pod (ImagePullBackOff, ...)
//	FAKE_REJECTED   a FailedCreate event message of the Job (a Pod Security rejection)
const fakeKubectl = `#!/usr/bin/env bash
echo "kubectl $*" >> "$CALLS"
case "$*" in
  "version --client"*) echo "Client Version: v1.35.2" ;;
  *"get job"*"--ignore-not-found"*) printf '%s' "${FAKE_PREVIOUS:-}" ;;
  *"get job"*"status.conditions[?(@.status"*)
    n=$(( $(cat "$COUNTER" 2>/dev/null || echo 0) + 1 )); echo "$n" > "$COUNTER"
    if [ "${FAKE_RESULT}" != never ] && [ "$n" -ge "${FAKE_DONE_AFTER:-2}" ]; then printf '%s ' "$FAKE_RESULT"; fi ;;
  *"get job"*"Failed"*) printf 'BackoffLimitExceeded' ;;
  *"get job"*"conditions[*]"*) printf '  Failed=True BackoffLimitExceeded: Job has reached the specified backoff limit\n' ;;
  *"get pods"*"waiting.reason"*) printf '%s ' "${FAKE_WAITING:-}" ;;
  *"get pods"*"status.phase"*) printf 'Running\n' ;;
  *"get pods"*"creationTimestamp"*) printf 'database-migration-aaaaa\ndatabase-migration-bbbbb\n' ;;
  *"get pod "*"terminated.message"*) case "$*" in *bbbbb*) printf 'exit 5: the database has version 0009 applied' ;; esac ;;
  *"get events"*"FailedCreate"*) printf '%s' "${FAKE_REJECTED:-}" ;;
  *"get events"*) echo "LAST SEEN   TYPE      REASON   OBJECT   MESSAGE"; echo "1m   Warning   BackOff   pod/database-migration-bbbbb   Back-off" ;;
  "logs "*) echo "{\"level\":\"INFO\",\"msg\":\"step done\",\"pod\":\"$2\"}"
    [ -z "${FAKE_SHAPE:-}" ] || echo "{\"level\":\"INFO\",\"msg\":\"table shape\",\"shape\":$FAKE_SHAPE}" ;;
esac
exit 0
`

const fakeAWS = `#!/usr/bin/env bash
echo "aws $*" >> "$CALLS"
case "$1 $2 $3" in "s3 cp -") cat > "$CALLS.s3" ;; esac
`

const jobManifest = "# migration-job.yaml\napiVersion: batch/v1\nkind: Job\nspec:\n  activeDeadlineSeconds: 3600\n"

type run struct {
	code           int
	stdout, stderr string
	calls          []string
	stored         string // what the stand-in aws received for s3 cp -
}

func deploy(t *testing.T, env map[string]string, manifest string) run {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	manifests := filepath.Join(dir, "k8s")
	for _, d := range []string{bin, manifests} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range map[string]string{"kubectl": fakeKubectl, "aws": fakeAWS} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if manifest != "" {
		if err := os.WriteFile(filepath.Join(manifests, "migration-job.yaml"), []byte(manifest), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	calls := filepath.Join(dir, "calls")
	cmd := exec.Command("bash", "deploy.sh", manifests)
	cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin", "CALLS=" + calls, "COUNTER=" + filepath.Join(dir, "counter"), "POLL_SECONDS=0.05"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	r := runScript(t, cmd)
	if b, err := os.ReadFile(calls + ".s3"); err == nil {
		r.stored = string(b)
	}
	b, _ := os.ReadFile(calls)
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if l != "" {
			r.calls = append(r.calls, l)
		}
	}
	return r
}

// runCommand runs cmd and keeps what it printed and its exit code (-1: it did not start).
func runCommand(cmd *exec.Cmd) run {
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := run{stdout: out.String(), stderr: errOut.String()}
	if exitErr, ok := err.(*exec.ExitError); ok {
		r.code = exitErr.ExitCode()
	} else if err != nil {
		r.code, r.stderr = -1, err.Error()
	}
	return r
}

// runScript runs the deploy script's command and keeps its exit code and output.
func runScript(t *testing.T, cmd *exec.Cmd) run {
	t.Helper()
	r := runCommand(cmd)
	if r.code == -1 {
		t.Fatal(r.stderr)
	}
	return r
}

func (r run) called(prefix string) bool {
	for _, c := range r.calls {
		if strings.HasPrefix(c, prefix) {
			return true
		}
	}
	return false
}

// inOrder fails unless each prefix names a call after the previous one.
func (r run) inOrder(t *testing.T, prefixes ...string) {
	t.Helper()
	last := -1
	for _, want := range prefixes {
		i := -1
		for j := last + 1; j < len(r.calls); j++ {
			if strings.HasPrefix(r.calls[j], want) {
				i = j
				break
			}
		}
		if i < 0 {
			t.Fatalf("no %q after call %d in:\n%s", want, last, strings.Join(r.calls, "\n"))
		}
		last = i
	}
}

func TestDeploySuccess(t *testing.T) {
	r := deploy(t, map[string]string{"FAKE_RESULT": "Complete", "CLUSTER_NAME": "carthub-dev", "AWS_REGION": "eu-west-1"}, jobManifest)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r.inOrder(t,
		"aws eks update-kubeconfig --name carthub-dev --region eu-west-1",
		"kubectl get job database-migration -n shopping-cart --ignore-not-found",
		"kubectl apply -n shopping-cart -f",
		"kubectl get job database-migration",
		"kubectl logs database-migration-aaaaa",
		"kubectl logs database-migration-bbbbb",
	)
	// The namespace and the NetworkPolicies belong to the Cluster stack: the deploy role, limited
	// to the namespace, applies only the Job.
	for _, c := range r.calls {
		if strings.HasPrefix(c, "kubectl apply") && !strings.HasSuffix(c, "migration-job.yaml") {
			t.Errorf("applied something besides the Job: %s", c)
		}
	}
	if r.called("kubectl delete") {
		t.Error("deleted a Job although none existed")
	}
	if !strings.Contains(r.stdout, "Job database-migration completed") || !strings.Contains(r.stdout, "attempt 2: pod database-migration-bbbbb") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "waiting up to 3720s") {
		t.Errorf("the wait is not the Job's deadline plus a margin:\n%s", r.stdout)
	}
}

// A migration that is still running is never deleted: the stage fails and names it.
func TestDeployRefusesToDeleteARunningJob(t *testing.T) {
	r := deploy(t, map[string]string{"FAKE_RESULT": "Complete",
		"FAKE_PREVIOUS": "database-migration||1|2026-11-26T10:00:00Z"}, jobManifest)
	if r.code != 4 {
		t.Fatalf("exit %d, want 4\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if r.called("kubectl delete") || r.called("kubectl apply") {
		t.Errorf("touched the running Job:\n%s", strings.Join(r.calls, "\n"))
	}
	if !strings.Contains(r.stderr, "Job database-migration in shopping-cart is still running (active pods: 1, started 2026-11-26T10:00:00Z)") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

func TestDeployTimeout(t *testing.T) {
	short := strings.Replace(jobManifest, "3600", "1", 1)
	r := deploy(t, map[string]string{"FAKE_RESULT": "never", "JOB_TIMEOUT": "0", "DEADLINE_MARGIN": "1"}, short)
	if r.code != 2 {
		t.Fatalf("exit %d, want 2\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// JOB_TIMEOUT below the deadline is raised to it.
	if !strings.Contains(r.stdout, "shorter than the Job's deadline") || !strings.Contains(r.stderr, "did not finish within 2s") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
}

func TestDeployMissingManifest(t *testing.T) {
	r := deploy(t, nil, "")
	if r.code != 3 || !strings.Contains(r.stderr, "migration-job.yaml is missing") {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if len(r.calls) != 0 {
		t.Errorf("kubectl was called without manifests: %v", r.calls)
	}
}

func TestDeployScriptPassesShellcheck(t *testing.T) {
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Fatal("shellcheck is required (apt-get install shellcheck; make lint installs it)")
	}
	if out, err := exec.Command(sc, "deploy.sh").CombinedOutput(); err != nil {
		t.Fatalf("shellcheck deploy.sh:\n%s", out)
	}
	if !strings.Contains(string(DeployScript), "set -euo pipefail") {
		t.Error("deploy.sh must run with set -euo pipefail")
	}
}

// The cases of the table shape the real control plane does not need to show (its storing is
// TestDeployStoresTheShapeOnARealControlPlane, with S3 on moto_server): a run that logged no
// shape stores nothing, a stage without SHAPE_URI never calls S3.
func TestDeployStoresTheTableShape(t *testing.T) {
	const shape = `{"source":"db/carthub","tables":{"orders":{"rows":2000000}}}`
	r := deploy(t, map[string]string{"FAKE_RESULT": "Complete", "SHAPE_URI": "s3://artifacts/shapes/prod.json", "FAKE_SHAPE": shape}, jobManifest)
	if r.code != 0 || !r.called("aws s3 cp - s3://artifacts/shapes/prod.json") || !strings.Contains(r.stdout, "table shape stored in s3://artifacts/shapes/prod.json") {
		t.Fatalf("exit %d, calls %v\n%s%s", r.code, r.calls, r.stdout, r.stderr)
	}
	if strings.TrimSpace(r.stored) != shape {
		t.Errorf("stored %q, want the shape the Job logged: %s", r.stored, shape)
	}
	r = deploy(t, map[string]string{"FAKE_RESULT": "Complete", "SHAPE_URI": "s3://artifacts/shapes/prod.json"}, jobManifest)
	if r.code != 0 || r.called("aws s3") || !strings.Contains(r.stdout, "logged no table shape") {
		t.Errorf("no shape logged: exit %d, calls %v\n%s", r.code, r.calls, r.stdout)
	}
	r = deploy(t, map[string]string{"FAKE_RESULT": "Complete", "FAKE_SHAPE": shape}, jobManifest)
	if r.called("aws s3") {
		t.Errorf("without SHAPE_URI: %v", r.calls)
	}
}
