package pipeline

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/carthub/carthub-db/infra/internal/kubetest"
	"github.com/carthub/carthub-db/k8s-synth/reachability"
)

// The NetworkPolicies that make k8s renders for the node (k8s-synth/config/node.yaml, applied by
// nodeSetup), enforced by a real policy engine: kube-router's network-policy controller on the
// node (node.sh), with Debian's iptables and ipset. Pods of a small probe (infra/kube/netprobe)
// listen and dial: one with the Job's labels in the Job's namespace, one in a namespace no policy
// covers, and a kube-dns stand-in in kube-system (the node runs no DNS server: what allow-dns
// lets the pods reach is port 53 of the pods labelled k8s-app=kube-dns there, so one listens on
// 53, UDP and TCP, and answers with an echo). On the host: the database server (nodeDB), another
// port of its address, and a relay to the cluster's API server (which listens on 127.0.0.1 only,
// where no pod reaches: the relay stands where a pod would reach the API).
//
// What the engine lets through is compared with what the table wants and with what cyclonus's
// model predicts for the same rendered policies and the same pods (k8s-synth/reachability, the
// model of k8s-synth's own truth table, TestNetworkPolicyReachability). A closed connection only
// counts where another source shows the same listener open: the controls.

// netprobeConn is one connection the test tries, and whether the node's policies allow it.
type netprobeConn struct {
	from, to string
	proto    string
	port     int
	want     bool
	why      string
}

func TestNetworkPoliciesOnARealNode(t *testing.T) {
	nodeSetup(t)
	begin := time.Now()
	node, db := onNode.node, onNode.db
	image := pushNetprobe(t, node)

	// On the host: another port of the database's address, and the relay to the API server. Both
	// on ports from the kernel's ephemeral range, above the NodePort range (30000-32767) to which
	// kube-router lets every pod reach the node's own addresses.
	other := listenOn(t, node.IP, func(c net.Conn) { c.Close() })
	api := apiServerAddress(t)
	relay := listenOn(t, node.IP, func(c net.Conn) {
		defer c.Close()
		up, err := net.DialTimeout("tcp", api, 2*time.Second)
		if err != nil {
			return
		}
		defer up.Close()
		go func() { _, _ = io.Copy(up, c) }()
		_, _ = io.Copy(c, up)
	})

	jobLabels := podTemplateLabels(t, onNode.job)
	pods := []netprobePod{
		{name: "netpol-migrator", namespace: "shopping-cart", labels: jobLabels, serve: []string{"tcp/8000"}},
		{name: "netpol-kube-dns", namespace: "kube-system", labels: map[string]string{"k8s-app": "kube-dns"}, serve: []string{"udp/53", "tcp/53", "tcp/8080"}},
		{name: "netpol-elsewhere", namespace: "netpol-probe", labels: map[string]string{"app": "elsewhere"}, serve: []string{"tcp/" + strconv.Itoa(db.port)}},
	}
	t.Cleanup(func() {
		for _, p := range pods {
			_, _ = cluster.Run(cluster.Admin, "", "delete", "pod", p.name, "-n", p.namespace, "--grace-period=1", "--wait=false")
		}
		_, _ = cluster.Run(cluster.Admin, "", "delete", "namespace", "netpol-probe", "--wait=false")
	})
	ips := startNetprobePods(t, node, image, pods)
	waitForPolicyEngine(t, node, ips["netpol-kube-dns"])

	// Controls from the host, which kube-router lets reach the node's pods (the kubelet's probes
	// come from there) and cyclonus does not model: the listeners the table finds closed are up.
	for _, addr := range []string{ips["netpol-migrator"] + ":8000", net.JoinHostPort(ips["netpol-elsewhere"], strconv.Itoa(db.port))} {
		if err := dialWithin(addr, 10*time.Second); err != nil {
			t.Fatalf("control: the host cannot reach the probe at %s: %v", addr, err)
		}
	}

	peers := map[string]reachability.Peer{
		"migrator":    {IP: ips["netpol-migrator"], Namespace: "shopping-cart", Labels: jobLabels},
		"kube-dns":    {IP: ips["netpol-kube-dns"], Namespace: "kube-system", Labels: map[string]string{"k8s-app": "kube-dns"}},
		"elsewhere":   {IP: ips["netpol-elsewhere"], Namespace: "netpol-probe", Labels: map[string]string{"app": "elsewhere"}},
		"database":    {IP: node.IP},
		"cluster API": {IP: node.IP},
	}
	table := []netprobeConn{
		{"migrator", "database", "TCP", db.port, true, "database-migration-egress: the database's address and port"},
		{"migrator", "kube-dns", "UDP", 53, true, "allow-dns"},
		{"migrator", "kube-dns", "TCP", 53, true, "allow-dns"},
		{"migrator", "kube-dns", "TCP", 8080, false, "allow-dns: port 53 only"},
		{"migrator", "database", "TCP", other.port, false, "another port of the database's address"},
		{"migrator", "elsewhere", "TCP", db.port, false, "another address, on the database's port"},
		{"migrator", "cluster API", "TCP", relay.port, false, "no policy lets the Job reach the API server"},
		{"elsewhere", "migrator", "TCP", 8000, false, "default-deny-all: nothing reaches the Job's pod"},
		// Controls: no policy selects the pods of netpol-probe, so the same listeners answer it.
		{"elsewhere", "database", "TCP", db.port, true, "control"},
		{"elsewhere", "database", "TCP", other.port, true, "control"},
		{"elsewhere", "cluster API", "TCP", relay.port, true, "control"},
		{"elsewhere", "kube-dns", "TCP", 8080, true, "control"},
	}
	policies, err := reachability.Decode([]byte(onNode.policies))
	if err != nil {
		t.Fatalf("decode the rendered network-policies.yaml: %v", err)
	}
	model := reachability.New(policies)
	observed := dialFromPods(t, map[string]netprobePod{"migrator": pods[0], "elsewhere": pods[2]}, peers, table)
	var report strings.Builder
	fmt.Fprintf(&report, "%-10s %-12s %-10s %-8s %-8s %-8s %s\n", "from", "to", "port", "want", "cyclonus", "observed", "why")
	for i, c := range table {
		predicted := model.Allowed(peers[c.from], peers[c.to], c.proto, c.port)
		got := observed[i]
		fmt.Fprintf(&report, "%-10s %-12s %-10s %-8s %-8s %-8s %s\n", c.from, c.to, fmt.Sprintf("%s/%d", c.proto, c.port),
			openClosed(c.want), openClosed(predicted), openClosed(got.open), c.why)
		if predicted != c.want {
			t.Errorf("%s -> %s %s/%d: cyclonus predicts %s, the table wants %s (%s)", c.from, c.to, c.proto, c.port, openClosed(predicted), openClosed(c.want), c.why)
		}
		if got.open != c.want {
			t.Errorf("%s -> %s %s/%d: %s under %s, want %s (%s): %s", c.from, c.to, c.proto, c.port, openClosed(got.open), node.PolicyEngine, openClosed(c.want), c.why, got.line)
		}
	}
	t.Logf("NetworkPolicies from make k8s (k8s-synth/config/node.yaml), enforced by %s, in %s:\n%s", node.PolicyEngine,
		time.Since(begin).Round(100*time.Millisecond), report.String())
	if t.Failed() {
		logs, _ := os.ReadFile(filepath.Join(node.Dir, "logs", "kube-router.log"))
		t.Logf("kube-router's log (last lines):\n%s", lastLines(string(logs), 15))
	}
}

// netprobePod is a pod of the probe image: its name, where it runs, its labels, what it serves.
type netprobePod struct {
	name, namespace string
	labels          map[string]string
	serve           []string
}

// pushNetprobe builds infra/kube/netprobe into an image of one layer (the binary, as its
// entrypoint) in the node's registry, as node.sh does the pause image, and returns its name.
func pushNetprobe(t *testing.T, node *kubetest.Node) string {
	t.Helper()
	dir := t.TempDir()
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", filepath.Join(dir, "netprobe"), "./kube/netprobe")
	build.Dir = filepath.Join(cluster.Root, "infra")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build infra/kube/netprobe: %v\n%s", err, out)
	}
	bin, err := os.ReadFile(filepath.Join(dir, "netprobe"))
	if err != nil {
		t.Fatal(err)
	}
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	if err := tw.WriteHeader(&tar.Header{Name: "netprobe", Mode: 0o755, Size: int64(len(bin)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(bin); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "layer.tar"), layer.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	crane := filepath.Join(cluster.Root, ".data", "tools", "crane")
	ref := node.Registry + "/netprobe:test"
	for _, args := range [][]string{
		{"append", "--insecure", "--platform", "linux/amd64", "-f", filepath.Join(dir, "layer.tar"), "-t", ref},
		{"mutate", "--insecure", "--entrypoint", "/netprobe", "--set-platform", "linux/amd64", "-t", ref, ref},
	} {
		if out, err := exec.Command(crane, args...).CombinedOutput(); err != nil {
			t.Fatalf("crane %s: %v\n%s (make crane builds %s)", strings.Join(args, " "), err, out, crane)
		}
	}
	return node.RegistryName + "/netprobe:test"
}

// startNetprobePods runs the pods on the node (non-root, no capabilities, read-only: what the
// restricted Pod Security level asks; port 53 through the namespaced sysctl that opens the low
// ports) and returns their addresses by name once they run.
func startNetprobePods(t *testing.T, node *kubetest.Node, image string, pods []netprobePod) map[string]string {
	t.Helper()
	docs := []string{"apiVersion: v1\nkind: Namespace\nmetadata: {name: netpol-probe}\n"}
	for _, p := range pods {
		labels, _ := yaml.Marshal(p.labels)
		args, _ := yaml.Marshal(append([]string{"serve"}, p.serve...))
		docs = append(docs, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: %s
  namespace: %s
  labels:
%s
spec:
  nodeSelector: {carthub.dev/node: kubelet}
  tolerations: [{key: carthub.dev/node, operator: Equal, value: kubelet, effect: NoSchedule}]
  automountServiceAccountToken: false
  enableServiceLinks: false
  terminationGracePeriodSeconds: 1
  securityContext:
    runAsNonRoot: true
    runAsUser: 65532
    runAsGroup: 65532
    seccompProfile: {type: RuntimeDefault}
    sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: "0"}]
  containers:
  - name: netprobe
    image: %s
    args:
%s
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, readOnlyRootFilesystem: true}
`, p.name, p.namespace, indent(string(labels), "    "), image, indent(string(args), "    ")))
	}
	cluster.Must(t, cluster.Admin, strings.Join(docs, "---\n"), "apply", "-f", "-")
	ips := map[string]string{}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		out := cluster.Must(t, cluster.Admin, "", "get", "pods", "-A", "--field-selector", "spec.nodeName="+node.Name,
			"-o", `jsonpath={range .items[*]}{.metadata.name} {.status.phase} {.status.podIP}{"\n"}{end}`)
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(line); len(f) == 3 && f[1] == "Running" {
				ips[f[0]] = f[2]
			}
		}
		running := 0
		for _, p := range pods {
			if ips[p.name] != "" {
				running++
			}
		}
		if running == len(pods) {
			return ips
		}
		if time.Now().After(deadline) {
			t.Fatalf("the probe pods are not all running after 60 s:\n%s\n%s", out,
				cluster.Must(t, cluster.Admin, "", "get", "events", "-A", "--field-selector", "involvedObject.kind=Pod"))
		}
	}
}

// waitForPolicyEngine waits until kube-router has written the Job's pod's firewall chain and put
// the kube-dns stand-in's address in its sets: until then a new pod's traffic passes unfiltered.
func waitForPolicyEngine(t *testing.T, node *kubetest.Node, dnsIP string) {
	t.Helper()
	chain := "REJECT traffic destined for POD name:netpol-migrator namespace: shopping-cart"
	var haveChain, haveIP bool
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		rules, _ := exec.Command("iptables-save", "-t", "filter").Output()
		sets, _ := exec.Command("ipset", "list").Output()
		haveChain, haveIP = bytes.Contains(rules, []byte(chain)), false
		for _, member := range strings.Split(string(sets), "\n") { // "10.200.1.2 timeout 0"
			if f := strings.Fields(member); len(f) > 0 && f[0] == dnsIP {
				haveIP = true
			}
		}
		if haveChain && haveIP {
			return
		}
	}
	logs, _ := os.ReadFile(filepath.Join(node.Dir, "logs", "kube-router.log"))
	t.Fatalf("%s has not written the probe pods' rules in 30 s (a rule %q: %v; %s in an ipset: %v); its log ends:\n%s",
		node.PolicyEngine, chain, haveChain, dnsIP, haveIP, lastLines(string(logs), 15))
}

// dialed is what netprobe dial said of one connection.
type dialed struct {
	open bool
	line string
}

// dialFromPods runs netprobe dial in each source pod (kubectl exec, the sources at once) and
// returns the outcome of each row of table.
func dialFromPods(t *testing.T, sources map[string]netprobePod, peers map[string]reachability.Peer, table []netprobeConn) []dialed {
	t.Helper()
	out := make([]dialed, len(table))
	var mu sync.Mutex
	var wg sync.WaitGroup
	var failures []string
	for from, pod := range sources {
		var rows []int
		args := []string{"exec", "-n", pod.namespace, pod.name, "--", "/netprobe", "dial", "-timeout", "2s"}
		for i, c := range table {
			if c.from == from {
				rows = append(rows, i)
				args = append(args, strings.ToLower(c.proto)+"/"+net.JoinHostPort(peers[c.to].IP, strconv.Itoa(c.port)))
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := cluster.Run(cluster.Admin, "", args...)
			lines := strings.Split(strings.TrimSpace(res), "\n")
			mu.Lock()
			defer mu.Unlock()
			if err != nil || len(lines) != len(rows) {
				failures = append(failures, fmt.Sprintf("kubectl %s: %v\n%s", strings.Join(args, " "), err, res))
				return
			}
			for j, i := range rows {
				l := lines[j]
				out[i] = dialed{open: strings.HasSuffix(l, " open"), line: l}
				// A connection counts as closed only for a reason a policy gives: refused
				// (kube-router's REJECT) or no answer, never a probe that could not try.
				if !out[i].open && !strings.Contains(l, "connection refused") && !strings.Contains(l, "timeout") && !strings.Contains(l, "no answer") {
					failures = append(failures, "the probe could not try: "+l)
				}
			}
		}()
	}
	wg.Wait()
	if len(failures) > 0 {
		t.Fatal(strings.Join(failures, "\n"))
	}
	return out
}

// hostListener is a TCP listener of the test's on the node's address.
type hostListener struct{ port int }

// listenOn listens on ip until the test ends, handling each connection, on a port the kernel
// picks outside the NodePort range.
func listenOn(t *testing.T, ip string, handle func(net.Conn)) hostListener {
	t.Helper()
	var l net.Listener
	for {
		ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		if p := ln.Addr().(*net.TCPAddr).Port; p < 30000 || p > 32767 {
			l = ln
			break
		}
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go handle(c)
		}
	}()
	return hostListener{port: l.Addr().(*net.TCPAddr).Port}
}

// apiServerAddress is host:port of the control plane's API server.
func apiServerAddress(t *testing.T) string {
	t.Helper()
	server := strings.TrimSpace(cluster.Must(t, cluster.Admin, "", "config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}"))
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// podTemplateLabels are the labels of the pods the Job of a manifest makes.
func podTemplateLabels(t *testing.T, manifest string) map[string]string {
	t.Helper()
	for _, doc := range strings.Split(manifest, "\n---\n") {
		var job struct {
			Kind string `json:"kind"`
			Spec struct {
				Template struct {
					Metadata struct {
						Labels map[string]string `json:"labels"`
					} `json:"metadata"`
				} `json:"template"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal([]byte(doc), &job); err != nil {
			t.Fatalf("decode the rendered migration-job.yaml: %v", err)
		}
		if job.Kind == "Job" && len(job.Spec.Template.Metadata.Labels) > 0 {
			return job.Spec.Template.Metadata.Labels
		}
	}
	t.Fatalf("no Job with pod labels in the rendered migration-job.yaml:\n%s", manifest)
	return nil
}

func dialWithin(addr string, limit time.Duration) error {
	var err error
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var c net.Conn
		if c, err = net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return nil
		}
	}
	return err
}

func openClosed(open bool) string {
	if open {
		return "open"
	}
	return "closed"
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = prefix + lines[i]
	}
	return strings.Join(lines, "\n")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
