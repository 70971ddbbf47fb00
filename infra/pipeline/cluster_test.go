package pipeline

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/carthub/carthub-db/infra/internal/kubetest"
)

// The deploy script against a real Kubernetes 1.35 control plane (kubetest), as the Deploy
// stage's identity: a token bound to the namespace-scoped edit role, what AmazonEKSEditPolicy
// grants, and nothing more.

// cluster is what this package's tests share: the control plane and, once bootstrap made it,
// the Deploy stage's kubeconfig.
var cluster struct {
	*kubetest.Cluster
	deployer string // a kubeconfig with the Deploy stage's rights
	job      string // migration-job.yaml as k8s-synth writes it
}

func TestMain(m *testing.M) {
	code := m.Run()
	kubetest.Stop()
	for _, stop := range stopAfterTests {
		stop()
	}
	os.Exit(code)
}

// goldenObjects are k8s-synth's objects (its golden stream, which its tests keep equal to what
// it writes) by kind.
func goldenObjects(t *testing.T, root string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "k8s-synth", "testdata", "default.k8s.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, doc := range strings.Split(string(b), "\n---\n") {
		for _, line := range strings.Split(doc, "\n") {
			if kind, ok := strings.CutPrefix(line, "kind: "); ok {
				out[kind] = append(out[kind], doc)
				break
			}
		}
	}
	return out
}

// bootstrap creates what cdk deploy applies before the pipeline exists (the namespace with its
// Pod Security labels, the NetworkPolicies, the Job's ServiceAccount), then the Deploy stage's
// identity: a ServiceAccount bound to the edit ClusterRole in the namespace, whose token is all
// the deploy script gets.
func bootstrap(t *testing.T) {
	t.Helper()
	if cluster.deployer != "" {
		return
	}
	cluster.Cluster = kubetest.Shared(t)
	objs := goldenObjects(t, cluster.Root)
	var all []string
	for _, kind := range []string{"Namespace", "ServiceAccount", "NetworkPolicy"} {
		all = append(all, objs[kind]...)
	}
	cluster.Must(t, cluster.Admin, strings.Join(all, "\n---\n"), "apply", "--server-side", "--field-manager", "cdk-kubectl-provider", "-f", "-")
	cluster.job = objs["Job"][0]
	cluster.Must(t, cluster.Admin, `apiVersion: v1
kind: ServiceAccount
metadata: {name: pipeline-deploy, namespace: shopping-cart}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: pipeline-deploy-edit, namespace: shopping-cart}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects: [{kind: ServiceAccount, name: pipeline-deploy, namespace: shopping-cart}]
`, "apply", "-f", "-")
	token := strings.TrimSpace(cluster.Must(t, cluster.Admin, "", "create", "token", "pipeline-deploy", "-n", "shopping-cart", "--duration", "2h"))
	server := strings.TrimSpace(cluster.Must(t, cluster.Admin, "", "config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}"))
	cfg := filepath.Join(cluster.Dir, "deployer.kubeconfig")
	for _, args := range [][]string{
		{"config", "set-cluster", "eks", "--server", server, "--certificate-authority", filepath.Join(cluster.Dir, "pki", "ca.crt"), "--embed-certs"},
		{"config", "set-credentials", "deploy", "--token", token},
		{"config", "set-context", "deploy", "--cluster", "eks", "--user", "deploy", "--namespace", "shopping-cart"},
		{"config", "use-context", "deploy"},
	} {
		cluster.Must(t, cfg, "", args...)
	}
	cluster.deployer = cfg
}

// jobWith is the migration Job with changes made by the real kubectl on the manifest (set env,
// patch), as a test scenario needs it.
func jobWith(t *testing.T, edits ...[]string) string {
	t.Helper()
	manifest := cluster.job
	for _, e := range edits {
		f := filepath.Join(t.TempDir(), "job.yaml")
		if err := os.WriteFile(f, []byte(manifest), 0o644); err != nil {
			t.Fatal(err)
		}
		args := append(append([]string{e[0]}, e[1:]...), "--local", "-f", f, "-o", "yaml")
		manifest = cluster.Must(t, cluster.Admin, "", args...)
	}
	return manifest
}

// exitCode makes kwok end the migrator container with code n (stages.yaml reads SIM_EXIT_CODE).
func exitCode(n int) []string { return []string{"set", "env", fmt.Sprintf("SIM_EXIT_CODE=%d", n)} }

func patch(p string) []string { return []string{"patch", "--type", "merge", "-p", p} }

// deployCommand is deploy.sh as the Deploy stage runs it, with the deployer's kubeconfig.
func deployCommand(t *testing.T, manifest string) *exec.Cmd {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "k8s"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "k8s", "migration-job.yaml"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "deploy.sh", filepath.Join(dir, "k8s"))
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir, "KUBECONFIG=" + cluster.deployer, "KUBECTL=" + cluster.Kubectl, "POLL_SECONDS=0.3"}
	return cmd
}

// realDeploy runs deploy.sh as the Deploy stage does, with the deployer's kubeconfig.
func realDeploy(t *testing.T, manifest string, env ...string) run {
	t.Helper()
	bootstrap(t)
	cmd := deployCommand(t, manifest)
	cmd.Env = append(cmd.Env, env...)
	start := time.Now()
	r := runScript(t, cmd)
	t.Logf("deploy.sh exit %d in %s", r.code, time.Since(start).Round(100*time.Millisecond))
	return r
}

func (r run) story() string { return r.stdout + r.stderr }

// wantRun fails unless the run ended with code and told each part of the story.
func wantRun(t *testing.T, r run, code int, parts ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit %d, want %d\n%s", r.code, code, r.story())
		return
	}
	for _, p := range parts {
		if !strings.Contains(r.story(), p) {
			t.Errorf("the output lacks %q:\n%s", p, r.story())
		}
	}
}
