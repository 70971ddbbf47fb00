package stacks

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/carthub/carthub-db/infra/internal/kubetest"
)

// manifestOf is the manifest a kubectl-provider resource applies: a JSON list of objects,
// literal or joined from literal parts.
func manifestOf(t *testing.T, v any) string {
	t.Helper()
	switch m := v.(type) {
	case string:
		return m
	case map[string]any:
		join, ok := m["Fn::Join"].([]any)
		if !ok || len(join) != 2 {
			t.Fatalf("a manifest that is neither a string nor a join: %v", m)
		}
		var b strings.Builder
		for _, part := range join[1].([]any) {
			s, ok := part.(string)
			if !ok {
				t.Fatalf("a manifest with a part resolved at deploy time: %v", part)
			}
			b.WriteString(s)
		}
		return b.String()
	}
	t.Fatalf("manifest of type %T", v)
	return ""
}

// The bootstrap as cdk deploy applies it, on a real API server: the namespace and NetworkPolicies
// the Cluster stack's kubectl provider applies (taken from the synthesized template), then the
// files `make k8s` writes applied on top, server-side, by another field manager: any field the
// two disagree on is a conflict, and Pod Security admits the Job at both enforce levels.
func TestBootstrapAppliesOnARealAPIServer(t *testing.T) {
	c := kubetest.Shared(t)
	tpl := template(appFor(t, "dev").Cluster.Stack)
	var applied []string
	var all []map[string]any
	for _, r := range resources(t, tpl, "Custom::AWSCDK-EKS-KubernetesResource") {
		var objs []map[string]any
		text := manifestOf(t, props(r)["Manifest"])
		if err := json.Unmarshal([]byte(text), &objs); err != nil {
			t.Fatalf("manifest: %v\n%s", err, text)
		}
		all = append(all, objs...)
	}
	// In the stack's order: the policies' resource depends on the namespace's.
	sort.SliceStable(all, func(i, j int) bool { return all[i]["kind"] == "Namespace" && all[j]["kind"] != "Namespace" })
	for _, o := range all {
		b, _ := json.Marshal(o)
		out := c.Must(t, c.Admin, string(b), "apply", "--server-side", "--field-manager", "cdk-kubectl-provider", "-f", "-")
		applied = append(applied, strings.TrimSpace(out))
	}
	if len(applied) < 2 {
		t.Fatalf("applied %v: want the namespace and the NetworkPolicies", applied)
	}
	t.Logf("bootstrap: %s", strings.Join(applied, "; "))

	// make k8s, as a user runs it, applied on top.
	out := t.TempDir()
	cmd := exec.Command("go", "run", "./k8s-synth", "--config", "k8s-synth/config/dev.yaml", "--outdir", out, "--extension", ".yaml")
	cmd.Dir = c.Root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make k8s: %v\n%s", err, b)
	}
	for _, f := range []string{"namespace.yaml", "network-policies.yaml"} {
		if got, err := c.Run(c.Admin, "", "apply", "--server-side", "--field-manager", "make-k8s", "-f", filepath.Join(out, f)); err != nil {
			t.Errorf("k8s/%s does not apply over what cdk deploy applied: %v\n%s", f, err, got)
		}
	}
	job := filepath.Join(out, "migration-job.yaml")
	// Pod Security as the API server enforces it: the Job is admitted without a restricted
	// warning at the default levels, a privileged pod is refused, and with the documented
	// switch to enforce restricted the Job is still admitted.
	got := c.Must(t, c.Admin, "", "apply", "--dry-run=server", "-f", job)
	if strings.Contains(strings.ToLower(got), "warning") {
		t.Errorf("the Job draws a Pod Security warning:\n%s", got)
	}
	privileged := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"privileged","namespace":"shopping-cart"},` +
		`"spec":{"containers":[{"name":"c","image":"busybox","securityContext":{"privileged":true}}]}}`
	if got, err := c.Run(c.Admin, privileged, "apply", "--dry-run=server", "-f", "-"); err == nil || !strings.Contains(got, `violates PodSecurity "baseline:v1.35"`) {
		t.Errorf("a privileged pod was not refused by baseline: %v\n%s", err, got)
	}
	restricted := t.TempDir()
	cmd = exec.Command("go", "run", "./k8s-synth", "--config", "k8s-synth/config/dev.yaml", "--outdir", restricted, "--extension", ".yaml",
		"--pod-security-enforce", "restricted")
	cmd.Dir = c.Root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("k8s-synth --pod-security-enforce restricted: %v\n%s", err, b)
	}
	c.Must(t, c.Admin, "", "apply", "--server-side", "--force-conflicts", "--field-manager", "make-k8s", "-f", filepath.Join(restricted, "namespace.yaml"))
	defer c.Must(t, c.Admin, "", "apply", "--server-side", "--force-conflicts", "--field-manager", "make-k8s", "-f", filepath.Join(out, "namespace.yaml"))
	if label := c.Must(t, c.Admin, "", "get", "namespace", "shopping-cart", "-o", `jsonpath={.metadata.labels.pod-security\.kubernetes\.io/enforce}`); label != "restricted" {
		t.Fatalf("enforce label %q after the switch", label)
	}
	if got, err := c.Run(c.Admin, "", "apply", "--dry-run=server", "-f", job); err != nil || strings.Contains(strings.ToLower(got), "warning") {
		t.Errorf("under enforce restricted the Job is refused or warned: %v\n%s", err, got)
	}
}

// make k8s's configuration for each environment carries the subnets its Network stack makes, so
// that the policies it writes are the ones cdk deploy applies.
func TestK8sConfigMatchesTheNetwork(t *testing.T) {
	for _, env := range []string{"dev", "prod"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "k8s-synth", "config", env+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		n := appFor(t, env).Network
		for key, want := range map[string][]string{"dbCidrs": n.DatabaseCIDRs(), "awsApiCidrs": n.EndpointCIDRs(), "albCidrs": n.PublicCIDRs()} {
			line := key + ": [" + strings.Join(want, ", ") + "]"
			if !strings.Contains(string(b), line) {
				t.Errorf("k8s-synth/config/%s.yaml lacks %q (the %s stack's subnets)", env, line, env)
			}
		}
	}
}
