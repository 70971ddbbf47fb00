// Package kubetest gives tests a real Kubernetes 1.35 control plane (infra/kube: etcd,
// kube-apiserver, kube-controller-manager and kube-scheduler built from the Go module proxy, kwok
// playing the nodes and the pods) and the real kubectl of the cluster's minor; on request, a real
// node beside kwok's (Cluster.Node: a kubelet on containerd). One control plane serves a test
// binary: started by the first test that asks, stopped by Stop in TestMain.
package kubetest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Cluster is a running control plane.
type Cluster struct {
	Dir     string // start.sh's work directory: pki/, logs/, the kubeconfigs
	Admin   string // a cluster-admin kubeconfig (what cdk deploy's kubectl provider has)
	Kubectl string // the kubectl binary (npm kubectl layer, make kubectl)
	Root    string // the repository
}

var (
	once    sync.Once
	shared  *Cluster
	started error

	nodeOnce    sync.Once
	node        *Node
	nodeStarted error
)

// Node is the cluster's real node (infra/kube/node.sh): a kubelet on containerd, tainted
// carthub.dev/node=kubelet:NoSchedule, whose pods live on a bridge of their own and whose
// NetworkPolicies kube-router's policy controller enforces.
type Node struct {
	Name         string // the Node object's name
	IP           string // the bridge's address: the node's InternalIP, reachable from every pod
	PodCIDR      string // the pods' addresses
	Registry     string // 127.0.0.1:PORT, where images are pushed (plain http)
	RegistryName string // the registry's name in pod specs: containerd pulls it from Registry
	Containerd   string // containerd's socket, for ctr --address
	PolicyEngine string // what enforces the NetworkPolicies of its pods: kube-router and its version
	Dir          string // node.sh's directory: logs/ (kubelet, containerd, kube-router)
}

// Node starts the real node on first use (after the control plane) and returns it; a test fails
// with the reason when it cannot start.
func (c *Cluster) Node(t testing.TB) *Node {
	t.Helper()
	nodeOnce.Do(func() { node, nodeStarted = c.startNode() })
	if nodeStarted != nil {
		t.Fatal(nodeStarted)
	}
	return node
}

func (c *Cluster) startNode() (*Node, error) {
	// kube-router as make kube built it; built here when missing (minutes: the script says so).
	kr := exec.Command(filepath.Join(c.Root, "infra", "kube", "build-kube-router.sh"))
	kr.Stderr = os.Stderr
	kubeRouter, err := kr.Output()
	if err != nil {
		return nil, fmt.Errorf("build kube-router (infra/kube/build-kube-router.sh; make kube runs it): %v", err)
	}
	cmd := exec.Command(filepath.Join(c.Root, "infra", "kube", "node.sh"), "start", c.Dir)
	cmd.Env = append(os.Environ(), "KUBECTL="+c.Kubectl, "CRANE="+filepath.Join(c.Root, ".data", "tools", "crane"),
		"KUBE_ROUTER="+strings.TrimSpace(string(kubeRouter)))
	out, err := startTimed(cmd, "the real node", "infra/kube/node.sh; make node-tools, make kube and make crane provide what it runs")
	if err != nil {
		return nil, err
	}
	env, err := os.ReadFile(filepath.Join(c.Dir, "env.sh"))
	if err != nil {
		return nil, err
	}
	vars := map[string]string{}
	for _, line := range strings.Split(string(env), "\n") {
		if k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "="); ok {
			vars[k] = strings.Trim(v, `"`)
		}
	}
	n := &Node{Name: vars["KUBE_NODE"], IP: vars["KUBE_NODE_IP"], PodCIDR: vars["KUBE_POD_CIDR"], Registry: vars["KUBE_REGISTRY"],
		RegistryName: vars["KUBE_REGISTRY_NAME"], Containerd: vars["CONTAINERD_ADDRESS"], PolicyEngine: vars["KUBE_POLICY_ENGINE"],
		Dir: filepath.Join(c.Dir, "node")}
	if n.Name == "" || n.IP == "" || n.Registry == "" || n.Containerd == "" {
		return nil, fmt.Errorf("node.sh wrote no node variables to %s/env.sh:\n%s", c.Dir, env)
	}
	if !strings.HasPrefix(n.PolicyEngine, "kube-router ") {
		return nil, fmt.Errorf("node.sh started no NetworkPolicy engine (KUBE_POLICY_ENGINE=%q; it runs kube-router when KUBE_ROUTER names it):\n%s", n.PolicyEngine, out)
	}
	return n, nil
}

// Ctr runs containerd's ctr against the node's containerd, in the kubelet's namespace.
func (n *Node) Ctr(args ...string) (string, error) {
	out, err := exec.Command("ctr", append([]string{"--address", n.Containerd, "--namespace", "k8s.io"}, args...)...).CombinedOutput()
	return string(out), err
}

// Shared starts the control plane on first use and returns it; a test fails with the reason
// when it cannot start.
func Shared(t testing.TB) *Cluster {
	t.Helper()
	once.Do(func() { shared, started = start() })
	if started != nil {
		t.Fatal(started)
	}
	return shared
}

// Stop ends the control plane, if one was started. Call it from TestMain after m.Run.
func Stop() {
	if shared != nil {
		_ = exec.Command(filepath.Join(shared.Root, "infra", "kube", "stop.sh"), shared.Dir).Run()
	}
}

func start() (*Cluster, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	c := &Cluster{Root: root, Kubectl: filepath.Join(root, ".data", "tools", "kubectl")}
	if _, err := os.Stat(c.Kubectl); err != nil {
		return nil, fmt.Errorf("no %s: run make kubectl (make test-infra does)", c.Kubectl)
	}
	if c.Dir, err = os.MkdirTemp("", "carthub-kube-"); err != nil {
		return nil, err
	}
	cmd := exec.Command(filepath.Join(root, "infra", "kube", "start.sh"), c.Dir)
	// The control plane ends with this test binary, even when a panic skips Stop.
	cmd.Env = append(os.Environ(), "KUBECTL="+c.Kubectl, fmt.Sprintf("WATCH_PID=%d", os.Getpid()))
	if _, err := startTimed(cmd, "the Kubernetes control plane", "infra/kube/start.sh; make kube builds it"); err != nil {
		return nil, err
	}
	shared = c
	c.Admin = filepath.Join(c.Dir, "admin.kubeconfig")
	return c, nil
}

// repoRoot is the directory above the working directory that holds infra/kube.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "infra", "kube", "start.sh")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no infra/kube/start.sh above the test's directory")
		}
		dir = parent
	}
}

// Run runs kubectl with a kubeconfig and stdin.
func (c *Cluster) Run(kubeconfig, stdin string, args ...string) (string, error) {
	cmd := exec.Command(c.Kubectl, append([]string{"--kubeconfig", kubeconfig}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Must is Run that fails the test on an error.
func (c *Cluster) Must(t testing.TB, kubeconfig, stdin string, args ...string) string {
	t.Helper()
	out, err := c.Run(kubeconfig, stdin, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// startTimed runs one of infra/kube's start scripts, says how long what it starts took to be
// ready, and returns the script's output; a failure carries that output and hint, where to look.
func startTimed(cmd *exec.Cmd, what, hint string) (string, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	begin := time.Now()
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("start %s (%s): %v\n%s", what, hint, err, out.String())
	}
	fmt.Fprintf(os.Stderr, "kubetest: %s ready in %s\n", what, time.Since(begin).Round(100*time.Millisecond))
	return out.String(), nil
}
