package pipeline

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeKubectl stands in for kubectl: it records every call and answers the Job's status from
// FAKE_* variables, so deploy.sh runs exactly as in CodeBuild.
const fakeKubectl = `#!/usr/bin/env bash
echo "kubectl $*" >> "$CALLS"
case "$*" in
  "auth can-i"*) exit "${FAKE_CAN_I:-1}" ;;
  *"get job"*"status.conditions[?(@.status"*)
    n=$(( $(cat "$COUNTER" 2>/dev/null || echo 0) + 1 )); echo "$n" > "$COUNTER"
    if [ "${FAKE_RESULT}" != never ] && [ "$n" -ge "${FAKE_DONE_AFTER:-2}" ]; then printf '%s ' "$FAKE_RESULT"; fi ;;
  *"get job"*"Failed"*) printf 'BackoffLimitExceeded' ;;
  *"get pods"*) printf 'exit 5: the database has version 0009 applied' ;;
  "logs "*) echo '{"level":"INFO","msg":"step done","step":"connect"}' ;;
esac
exit 0
`

const fakeAWS = `#!/usr/bin/env bash
echo "aws $*" >> "$CALLS"
`

type run struct {
	code           int
	stdout, stderr string
	calls          []string
}

func deploy(t *testing.T, env map[string]string, withManifests bool) run {
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
	if withManifests {
		for _, f := range []string{"namespace.yaml", "network-policies.yaml", "migration-job.yaml"} {
			if err := os.WriteFile(filepath.Join(manifests, f), []byte("# "+f+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	calls := filepath.Join(dir, "calls")
	cmd := exec.Command("bash", "deploy.sh", manifests)
	cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin", "CALLS=" + calls, "COUNTER=" + filepath.Join(dir, "counter"), "POLL_SECONDS=0.05"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := run{stdout: out.String(), stderr: errOut.String()}
	if exitErr, ok := err.(*exec.ExitError); ok {
		r.code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(calls)
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if l != "" {
			r.calls = append(r.calls, l)
		}
	}
	return r
}

func indexOf(calls []string, prefix string) int {
	for i, c := range calls {
		if strings.HasPrefix(c, prefix) {
			return i
		}
	}
	return -1
}

func TestDeploySuccess(t *testing.T) {
	r := deploy(t, map[string]string{"FAKE_RESULT": "Complete", "CLUSTER_NAME": "carthub-dev", "AWS_REGION": "eu-west-1"}, true)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	order := []string{
		"aws eks update-kubeconfig --name carthub-dev --region eu-west-1",
		"kubectl apply -n shopping-cart -f", // NetworkPolicies
		"kubectl delete job database-migration -n shopping-cart --ignore-not-found",
		"kubectl apply -n shopping-cart -f",
		"kubectl get job database-migration",
		"kubectl logs job/database-migration",
	}
	last := -1
	for _, want := range order {
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
	var applied []string
	for _, c := range r.calls {
		if strings.HasPrefix(c, "kubectl apply") {
			applied = append(applied, filepath.Base(c))
		}
	}
	if strings.Join(applied, ",") != "network-policies.yaml,migration-job.yaml" {
		t.Errorf("applied %v, want the NetworkPolicies, then the Job", applied)
	}
	if strings.Contains(strings.Join(r.calls, "\n"), "namespace.yaml") {
		t.Error("namespace.yaml applied although the role may not patch namespaces")
	}
	if !strings.Contains(r.stdout, "Job database-migration completed") || !strings.Contains(r.stdout, `"step":"connect"`) {
		t.Errorf("stdout:\n%s", r.stdout)
	}
}

func TestDeployAppliesNamespaceWhenAllowed(t *testing.T) {
	r := deploy(t, map[string]string{"FAKE_RESULT": "Complete", "FAKE_CAN_I": "0"}, true)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	ns := indexOf(r.calls, "kubectl apply -f")
	if ns < 0 || !strings.HasSuffix(r.calls[ns], "namespace.yaml") || ns > indexOf(r.calls, "kubectl apply -n") {
		t.Errorf("namespace.yaml not applied first:\n%s", strings.Join(r.calls, "\n"))
	}
	if indexOf(r.calls, "aws ") >= 0 {
		t.Error("update-kubeconfig ran without CLUSTER_NAME")
	}
}

func TestDeployJobFailure(t *testing.T) {
	r := deploy(t, map[string]string{"FAKE_RESULT": "Failed"}, true)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"Job database-migration failed (BackoffLimitExceeded)"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if !strings.Contains(r.stdout, "termination message: exit 5: the database has version 0009 applied") || !strings.Contains(r.stdout, "logs of job/database-migration") {
		t.Errorf("stdout lacks the logs or the termination message:\n%s", r.stdout)
	}
}

func TestDeployTimeout(t *testing.T) {
	r := deploy(t, map[string]string{"FAKE_RESULT": "never", "JOB_TIMEOUT": "1"}, true)
	if r.code != 2 {
		t.Fatalf("exit %d, want 2\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "did not finish within 1s") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

func TestDeployMissingManifests(t *testing.T) {
	r := deploy(t, nil, false)
	if r.code != 3 || !strings.Contains(r.stderr, "namespace.yaml is missing") {
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
