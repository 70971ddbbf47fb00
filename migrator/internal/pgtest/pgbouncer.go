package pgtest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carthub/carthub-db/migrator/internal/pgserver"
)

// Pgbouncer starts Debian's pgbouncer in front of the test server, in pool mode mode
// ("transaction" or "session"), and returns connURL rewritten to go through it. The pooler
// stops with the test. Like a real deployment, it forwards the settings it tracks
// (application_name, timezone) and ignores the other startup parameters the migrator sends.
func Pgbouncer(t testing.TB, connURL, mode string) string {
	t.Helper()
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		if bin, err = exec.LookPath("/usr/sbin/pgbouncer"); err != nil {
			t.Fatal("pgbouncer is required: apt-get install pgbouncer (make postgres installs it)")
		}
	}
	u, err := url.Parse(connURL)
	if err != nil {
		t.Fatal(err)
	}
	password, _ := u.User.Password()
	owner, err := pgserver.RunAs()
	if err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp("", "carthub-pgbouncer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	// pgbouncer runs as postgres when we are root: its files go where that user can reach them.
	dir, err := pgserver.ServerDir(context.Background(), owner, tmp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	port, err := pgserver.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	ini := fmt.Sprintf(`[databases]
* = host=%s port=%s
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = plain
auth_file = %s
pool_mode = %s
default_pool_size = 4
max_client_conn = 100
ignore_startup_parameters = extra_float_digits,lock_timeout,statement_timeout
logfile = %s
pidfile = %s
`, u.Hostname(), u.Port(), port, filepath.Join(dir, "users.txt"), mode, filepath.Join(dir, "pgbouncer.log"), filepath.Join(dir, "pgbouncer.pid"))
	files := map[string]string{"pgbouncer.ini": ini, "users.txt": fmt.Sprintf("%q %q\n", u.User.Username(), password)}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, filepath.Join(dir, "pgbouncer.ini"))
	if owner != nil {
		if err := pgserver.ChownAll(dir, owner); err != nil {
			t.Fatal(err)
		}
		cmd = exec.Command("runuser", "-u", owner.Username, "--", bin, filepath.Join(dir, "pgbouncer.ini"))
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Signal pgbouncer itself: runuser, our child as root, does not pass signals on.
		if b, err := os.ReadFile(filepath.Join(dir, "pgbouncer.pid")); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				_ = syscall.Kill(pid, syscall.SIGTERM)
			}
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	pooled := *u
	pooled.Host = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, pooled.String())
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return pooled.String()
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "pgbouncer.log"))
			t.Fatalf("pgbouncer did not accept connections: %v\n%s", err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
