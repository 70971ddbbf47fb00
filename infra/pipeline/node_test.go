package pipeline

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/carthub/carthub-db/infra/internal/kubetest"
)

// The migration Job on the cluster's real node (kubetest's Node: a kubelet on containerd and
// runc), with the image `make image` built, pulled from the node's registry, and the Job that
// `make k8s` renders from k8s-synth/config/node.yaml: the migrator runs under the Job's own
// securityContext, its exit codes and termination message reach the podFailurePolicy through a
// real kubelet, and deploy.sh fetches its real logs. The database is a PostgreSQL on the node's
// bridge that accepts the pods' network over TLS only, with a certificate for the bridge's
// address from a CA of its own, which the Job trusts through ConfigMap database-ca (verify-full).

// onNode is what the real node's scenarios share.
var onNode struct {
	node     *kubetest.Node
	db       *nodeDB
	job      string // migration-job.yaml as make k8s renders it for the node
	policies string // network-policies.yaml, likewise: applied, and enforced by the node's kube-router
}

// nodeDB is the database server the node's pods reach: devdb's PostgreSQL, listening on the
// bridge's address too.
type nodeDB struct {
	dir, devdb, psql string
	port             int
	admin            string // the superuser, over 127.0.0.1 (the test's own connection)
	caPEM            []byte // the CA of the server's certificate
	password         string // of the migrator's role
}

// migratorRole is the role the Job logs in as: the database's owner, not a superuser, like the
// RDS master user.
const migratorRole = "carthub_migrator"

// nodeSetup starts the node, the database server and pushes the image, once per test binary.
func nodeSetup(t *testing.T) {
	t.Helper()
	bootstrap(t)
	if onNode.job != "" {
		return
	}
	image := os.Getenv("CARTHUB_NODE_IMAGE")
	if image == "" {
		t.Fatal("CARTHUB_NODE_IMAGE is not set: make test-infra builds the image (make image) and names its amd64 variant")
	}
	begin := time.Now()
	onNode.node = cluster.Node(t)
	onNode.db = startNodeDB(t, onNode.node)
	ref := pushImage(t, onNode.node, image)
	// The Job as make k8s renders it: what only the running node knows comes from CARTHUB_*.
	out := t.TempDir()
	cmd := exec.Command("make", "-s", "--no-print-directory", "k8s", "K8S_CONFIG=k8s-synth/config/node.yaml", "K8S_OUTDIR="+out, "IMAGE="+ref)
	cmd.Dir = cluster.Root
	cmd.Env = append(os.Environ(), "CARTHUB_DB_HOST="+onNode.node.IP, "CARTHUB_DB_PORT="+strconv.Itoa(onNode.db.port),
		"CARTHUB_DB_CIDRS="+onNode.node.IP+"/32")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make k8s: %v\n%s", err, b)
	}
	job, err := os.ReadFile(filepath.Join(out, "migration-job.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	namespace, err := os.ReadFile(filepath.Join(out, "namespace.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	policies, err := os.ReadFile(filepath.Join(out, "network-policies.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The node's namespace and policies in place of the golden ones bootstrap applied (whose
	// database subnets are not the node's): the Job runs under the policies that kube-router
	// enforces, exactly the rendered set.
	cluster.Must(t, cluster.Admin, "", "delete", "networkpolicies", "--all", "-n", "shopping-cart")
	cluster.Must(t, cluster.Admin, string(namespace)+"\n---\n"+string(policies), "apply", "--server-side", "--field-manager", "cdk-kubectl-provider", "-f", "-")
	onNode.job, onNode.policies = string(job), string(policies)
	t.Logf("node (NetworkPolicies enforced by %s), database and image ready in %s", onNode.node.PolicyEngine, time.Since(begin).Round(100*time.Millisecond))
}

// pushImage pushes the local image to the node's registry and returns the name pods pull it by.
func pushImage(t *testing.T, node *kubetest.Node, image string) string {
	t.Helper()
	engineOut, err := exec.Command(filepath.Join(cluster.Root, "migrator", "image", "engine.sh")).Output()
	if err != nil {
		t.Fatalf("no container engine (migrator/image/engine.sh): %v", err)
	}
	engine := strings.Fields(string(engineOut))
	repoTag := image[strings.LastIndex(image, "/")+1:]
	dst := node.Registry + "/" + repoTag
	var cmds [][]string
	if engine[0] == "podman" {
		cmds = [][]string{append(engine, "push", "--quiet", "--tls-verify=false", image, dst)}
	} else {
		cmds = [][]string{append(engine, "tag", image, dst), append(engine, "push", "--quiet", dst)}
	}
	for _, c := range cmds {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s (make image builds %s)", strings.Join(c, " "), err, out, image)
		}
	}
	return node.RegistryName + "/" + repoTag
}

// startNodeDB starts PostgreSQL on 127.0.0.1 and the node's bridge, TLS with a certificate for
// the bridge's address, and pg_hba.conf letting the pods' network in over TLS only.
func startNodeDB(t *testing.T, node *kubetest.Node) *nodeDB {
	t.Helper()
	dir, err := os.MkdirTemp("", "carthub-nodedb-")
	if err != nil {
		t.Fatal(err)
	}
	// The server runs as the postgres user when the tests run as root: it must enter dir.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	db := &nodeDB{dir: dir, devdb: filepath.Join(dir, "devdb"), password: hex.EncodeToString(randomBytes(t, 12))}
	build := exec.Command("go", "build", "-o", db.devdb, "./migrator/cmd/devdb")
	build.Dir = cluster.Root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build devdb: %v\n%s", err, out)
	}
	stopAfterTests = append(stopAfterTests, func() {
		_ = exec.Command(db.devdb, "--dir", filepath.Join(dir, "pg"), "remove").Run()
		os.RemoveAll(dir)
	})
	db.caPEM = writeServerTLS(t, dir, node.IP)
	hba := "host all all 127.0.0.1/32 scram-sha-256\nhostssl all all " + node.PodCIDR + " scram-sha-256\n"
	if err := os.WriteFile(filepath.Join(dir, "pg_hba.conf"), []byte(hba), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := chownToServer(filepath.Join(dir, "server.key")); err != nil {
		t.Fatal(err)
	}
	start := exec.Command(db.devdb, "--dir", filepath.Join(dir, "pg"), "--db", "postgres",
		"--set", "listen_addresses=127.0.0.1,"+node.IP, "--set", "ssl=on",
		"--set", "ssl_cert_file="+filepath.Join(dir, "server.crt"), "--set", "ssl_key_file="+filepath.Join(dir, "server.key"),
		"--set", "hba_file="+filepath.Join(dir, "pg_hba.conf"), "start")
	var stderr strings.Builder
	start.Stderr = &stderr
	out, err := start.Output()
	if err != nil {
		t.Fatalf("start the node's database server: %v\n%s", err, stderr.String())
	}
	db.admin = strings.TrimSpace(string(out))
	u, err := url.Parse(db.admin)
	if err != nil {
		t.Fatal(err)
	}
	if db.port, err = strconv.Atoi(u.Port()); err != nil {
		t.Fatal(err)
	}
	db.psql = "psql"
	if p := filepath.Join(os.Getenv("PG_BINDIR"), "psql"); os.Getenv("PG_BINDIR") != "" {
		if _, err := os.Stat(p); err == nil {
			db.psql = p
		}
	}
	db.sql(t, "postgres", "CREATE ROLE "+migratorRole+" LOGIN NOSUPERUSER CREATEDB PASSWORD '"+db.password+"'")
	return db
}

// stopAfterTests holds what TestMain ends after the tests (the node's database server).
var stopAfterTests []func()

// sql runs statements as the superuser in database name and returns psql's unaligned output.
func (db *nodeDB) sql(t *testing.T, name, statements string) string {
	t.Helper()
	u, _ := url.Parse(db.admin)
	u.Path = "/" + name
	out, err := exec.Command(db.psql, u.String(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", statements).CombinedOutput()
	if err != nil {
		t.Fatalf("psql %q: %v\n%s", statements, err, out)
	}
	return strings.TrimSpace(string(out))
}

// fresh makes database carthub empty again, owned by the migrator's role.
func (db *nodeDB) fresh(t *testing.T) {
	t.Helper()
	db.sql(t, "postgres", "DROP DATABASE IF EXISTS carthub WITH (FORCE)")
	db.sql(t, "postgres", "CREATE DATABASE carthub OWNER "+migratorRole)
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// writeServerTLS writes server.crt and server.key for ip, from a CA of their own, and returns the CA.
func writeServerTLS(t *testing.T, dir, ip string) []byte {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "carthub node test database CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: ip},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IPAddresses: []net.IP{net.ParseIP(ip)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	for name, body := range map[string][]byte{
		"server.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		"server.key": pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		"ca.crt":     caPEM,
	} {
		mode := os.FileMode(0o644)
		if name == "server.key" {
			mode = 0o600
		}
		if err := os.WriteFile(filepath.Join(dir, name), body, mode); err != nil {
			t.Fatal(err)
		}
	}
	return caPEM
}

// chownToServer gives a file to the postgres user when the tests run as root (the server runs
// as that user and refuses a key others can read).
func chownToServer(path string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(path, uid, gid)
}

// nodeInputs applies what the operators give the Job: Secret db-migration-secret (the user and
// password) and ConfigMap database-ca (the CA the Job trusts).
func nodeInputs(t *testing.T, password string, ca []byte) {
	t.Helper()
	secret := fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata: {name: db-migration-secret, namespace: shopping-cart}
stringData: {username: %s, password: %q}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: database-ca, namespace: shopping-cart}
data:
  ca.crt: %q
`, migratorRole, password, string(ca))
	cluster.Must(t, cluster.Admin, secret, "apply", "-f", "-")
}

// jobPod is the newest pod of the Job: its name and its container's id in containerd.
func jobPod(t *testing.T) (name, containerID string) {
	t.Helper()
	out := cluster.Must(t, cluster.Admin, "", "get", "pods", "-n", "shopping-cart", "-l", "job-name=database-migration",
		"--sort-by=.metadata.creationTimestamp", "-o", `jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.containerStatuses[0].containerID}{"\n"}{end}`)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	f := strings.Fields(lines[len(lines)-1])
	if len(f) < 2 || f[1] != onNode.node.Name {
		t.Fatalf("the Job's pod is not on the real node %s: %q", onNode.node.Name, out)
	}
	if len(f) == 3 {
		containerID = strings.TrimPrefix(f[2], "containerd://")
	}
	return f[0], containerID
}

// ociSpec is what the runtime was told to run, as containerd holds it (ctr containers info).
type ociSpec struct {
	Spec struct {
		Process struct {
			User            struct{ UID, GID uint32 }
			Capabilities    map[string][]string `json:"capabilities"`
			NoNewPrivileges bool                `json:"noNewPrivileges"`
		} `json:"process"`
		Root  struct{ Readonly bool } `json:"root"`
		Linux struct {
			Seccomp *struct {
				DefaultAction string `json:"defaultAction"`
				Syscalls      []any  `json:"syscalls"`
			} `json:"seccomp"`
			Resources struct {
				Memory struct{ Limit int64 } `json:"memory"`
			} `json:"resources"`
			MaskedPaths []string `json:"maskedPaths"`
		} `json:"linux"`
	}
}

// The Job on the real node, one way it ends after another, each with its own database state.
func TestMigrationJobOnARealNode(t *testing.T) {
	nodeSetup(t)
	db := onNode.db
	ok := []string{"creating Job database-migration", "attempt 1: pod database-migration-"}
	t.Run("migration_completes", func(t *testing.T) {
		db.fresh(t)
		nodeInputs(t, db.password, db.caPEM)
		r := realDeploy(t, onNode.job)
		wantRun(t, r, 0, append(ok, "attempt 1 termination message: exit 0: applied 5 migration(s), now at version 0005",
			`"msg":"migration complete"`, "Job database-migration completed")...)
		if got := db.sql(t, "carthub", "SELECT string_agg(version || ':' || kind, ',' ORDER BY version) FROM carthub_schema_history"); got != "1:applied,2:applied,3:applied,4:applied,5:applied" {
			t.Errorf("history after the Job: %s", got)
		}
		// What containerd was told to run, read back: the Job's securityContext and limits.
		_, id := jobPod(t)
		info, err := onNode.node.Ctr("containers", "info", id)
		if err != nil {
			t.Fatalf("ctr containers info %s: %v\n%s", id, err, info)
		}
		var c ociSpec
		if err := json.Unmarshal([]byte(info), &c); err != nil {
			t.Fatalf("decode ctr containers info: %v\n%s", err, info)
		}
		s := c.Spec
		if !s.Root.Readonly {
			t.Error("the root filesystem is writable")
		}
		if s.Process.User.UID != 65532 || s.Process.User.GID != 65532 {
			t.Errorf("runs as uid %d gid %d, want 65532/65532", s.Process.User.UID, s.Process.User.GID)
		}
		for set, caps := range s.Process.Capabilities {
			if len(caps) > 0 {
				t.Errorf("capabilities %s: %v, want none", set, caps)
			}
		}
		if !s.Process.NoNewPrivileges {
			t.Error("noNewPrivileges is off: the process could gain privileges")
		}
		if s.Linux.Seccomp == nil || s.Linux.Seccomp.DefaultAction != "SCMP_ACT_ERRNO" || len(s.Linux.Seccomp.Syscalls) == 0 {
			t.Errorf("seccomp: %+v, want the runtime's default profile (SCMP_ACT_ERRNO unless allowed)", s.Linux.Seccomp)
		}
		if s.Linux.Resources.Memory.Limit != 256<<20 {
			t.Errorf("memory limit %d bytes, want 256Mi", s.Linux.Resources.Memory.Limit)
		}
	})
	t.Run("wrong_password_is_retried_to_the_backoff_limit", func(t *testing.T) {
		db.fresh(t)
		wrong := "wrong-" + hex.EncodeToString(randomBytes(t, 6))
		nodeInputs(t, wrong, db.caPEM)
		r := realDeploy(t, onNode.job)
		wantRun(t, r, 1, "attempt 1 termination message: exit 3: ", "attempt 2 termination message: exit 3: ",
			"Job database-migration failed (BackoffLimitExceeded)")
		for _, secret := range []string{wrong, db.password} {
			if strings.Contains(r.story(), secret) {
				t.Errorf("a password is in the output:\n%s", r.story())
			}
		}
	})
	t.Run("bad_setting_fails_the_job_at_once", func(t *testing.T) {
		db.fresh(t)
		nodeInputs(t, db.password, []byte("not a certificate\n"))
		r := realDeploy(t, onNode.job)
		wantRun(t, r, 1, "attempt 1 termination message: exit 2: ", "failed to configure TLS (unable to add CA to cert pool)",
			"Job database-migration failed (PodFailurePolicy)")
		if strings.Contains(r.story(), "attempt 2") {
			t.Errorf("a configuration error was retried:\n%s", r.story())
		}
	})
	t.Run("pod_killed_mid_migration_then_the_next_attempt_resumes", func(t *testing.T) {
		db.fresh(t)
		nodeInputs(t, db.password, db.caPEM)
		// A transaction with an old snapshot: 0005's concurrent index builds wait for it, so the
		// migrator is inside 0005, after 0001-0004 committed, when its container is killed.
		u, _ := url.Parse(db.admin)
		u.Path = "/carthub"
		holder := exec.Command(db.psql, u.String(), "-X", "-q")
		stdin, err := holder.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := holder.Start(); err != nil {
			t.Fatal(err)
		}
		release := func() { _, _ = io.WriteString(stdin, "COMMIT;\n"); stdin.Close(); _ = holder.Wait() }
		defer release()
		if _, err := io.WriteString(stdin, "BEGIN ISOLATION LEVEL REPEATABLE READ;\nSELECT 1;\n"); err != nil {
			t.Fatal(err)
		}
		done := make(chan run, 1)
		cmd := deployCommand(t, onNode.job)
		go func() { done <- runCommand(cmd) }()
		var id string
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the migrator never reached 0005's index builds; history: %s",
					db.sql(t, "carthub", "SELECT coalesce(string_agg(version::text, ','), 'none') FROM carthub_schema_history WHERE to_regclass('carthub_schema_history') IS NOT NULL"))
			}
			waiting := db.sql(t, "postgres", "SELECT count(*) FROM pg_stat_activity WHERE datname = 'carthub' AND query ILIKE '%CONCURRENTLY%' AND wait_event_type IS NOT NULL")
			if waiting != "0" {
				// The kubelet reports the container's id to the API server a moment after it
				// starts: the migrator may be waiting in the database before the pod says so.
				if _, id = jobPod(t); id != "" {
					break
				}
			}
		}
		if out, err := onNode.node.Ctr("tasks", "kill", "--signal", "SIGKILL", id); err != nil {
			t.Fatalf("kill the migrator's container: %v\n%s", err, out)
		}
		release()
		r := <-done
		wantRun(t, r, 0, "attempt 1: pod", "attempt 2: pod", "attempt 2 termination message: exit 0: applied 1 migration(s), now at version 0005",
			"Job database-migration completed")
		if got := db.sql(t, "carthub", "SELECT string_agg(version || ':' || kind, ',' ORDER BY version) FROM carthub_schema_history"); got != "1:applied,2:applied,3:applied,4:applied,5:applied" {
			t.Errorf("history after the second attempt: %s", got)
		}
	})
}
