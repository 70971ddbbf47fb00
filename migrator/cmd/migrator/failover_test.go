package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carthub/carthub-db/migrator/internal/pgserver"
	"github.com/carthub/carthub-db/migrator/internal/pgtest"
)

// The failover shape, as RDS Multi-AZ does it: a primary with a synchronous streaming standby
// behind an endpoint (a proxy the test re-points). While the first run of up goes, at a random
// moment, the primary is killed with all its processes (SIGKILL: no shutdown) and the endpoint
// moves to the standby at once, still read-only; the standby is promoted 3 s later. The first run
// must end with 0 or 3; the next plain run (the Job's next pod) must wait for the promotion and
// converge by itself: every version applied, verify clean, no row lost, no INVALID index and no
// scratch database left. It needs pg_basebackup: Debian's PostgreSQL 15 has it (FAILOVER_BINDIR
// picks another); the npm postgres-17/18 builds ship only initdb, pg_ctl and postgres.
func TestFailoverTrials(t *testing.T) {
	bin := os.Getenv("FAILOVER_BINDIR")
	if bin == "" {
		bin = "/usr/lib/postgresql/15/bin"
	}
	if _, err := os.Stat(filepath.Join(bin, "pg_basebackup")); err != nil {
		t.Fatalf("no pg_basebackup in %s (the npm postgres builds have none): the failover trials need a streaming standby; "+
			"install Debian's PostgreSQL 15 (make postgres) or set FAILOVER_BINDIR to a build that has it", bin)
	}
	trials := envInt(t, "FAILOVER_TRIALS", 1)
	seed := uint64(envInt(t, "FAULT_SEED", int(rand.Uint32())))
	rng := rand.New(rand.NewPCG(seed, seed^0x51))
	t.Logf("failover trials: %d, seed %d (replay with FAULT_SEED=%d)", trials, seed, seed)
	for n := range trials {
		delay := time.Duration(100+rng.IntN(1900)) * time.Millisecond
		t.Run(fmt.Sprintf("trial_%d_primary_killed_after_%dms", n, delay.Milliseconds()), func(t *testing.T) {
			failoverTrial(t, bin, delay)
		})
	}
}

func failoverTrial(t *testing.T, bin string, delay time.Duration) {
	ctx := context.Background()
	server := func(start func(dir string) (*pgserver.Server, error)) *pgserver.Server {
		dir := t.TempDir()
		s, err := start(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = pgserver.Remove(ctx, dir) })
		return s
	}
	primary := server(func(dir string) (*pgserver.Server, error) {
		return pgserver.Start(ctx, pgserver.Options{Dir: dir, Bin: bin, Settings: []string{"wal_level=replica", "max_wal_senders=4", "synchronous_commit=on"}})
	})
	pgtest.Exec(t, primary.URL("postgres"), "CREATE DATABASE carthub")
	pgtest.Exec(t, primary.URL("carthub"), legacyFixture(t))
	pgtest.Exec(t, primary.URL("carthub"), legacyRows)
	standby := server(func(dir string) (*pgserver.Server, error) {
		return primary.StartStandby(ctx, pgserver.Options{Dir: dir})
	})
	pgtest.Exec(t, primary.URL("postgres"), "ALTER SYSTEM SET synchronous_standby_names = '*'")
	pgtest.Exec(t, primary.URL("postgres"), "SELECT pg_reload_conf()")
	waitFor(t, primary.URL("postgres"), "SELECT count(*) > 0 FROM pg_stat_replication WHERE sync_state = 'sync'")
	before := tableFingerprint(t, primary.URL("carthub"))

	endpoint := newEndpoint(t, net.JoinHostPort(primary.Host, strconv.Itoa(primary.Port)))
	u := mustParseURL(t, primary.URL("carthub"))
	u.Host = endpoint.addr
	env := dbEnv(u.String())

	first := start(t, env, "up", "--connect-timeout", "2s")
	time.Sleep(delay)
	primary.Kill()
	endpoint.point(net.JoinHostPort(standby.Host, strconv.Itoa(standby.Port)))
	r := first.wait(t)
	if r.code != 0 && r.code != 3 {
		t.Fatalf("first run: exit %d, want 0 or 3 (transient: the Job retries)\n%s", r.code, r.stderr)
	}
	promoted := make(chan struct{})
	go func() {
		defer close(promoted)
		time.Sleep(3 * time.Second)
		conn, err := pgx.Connect(ctx, standby.URL("postgres"))
		if err == nil {
			_, _ = conn.Exec(ctx, "SELECT pg_promote()")
			conn.Close(ctx)
		}
	}()
	// The Job's next pod: a plain run, with the Job's connect deadline.
	next := cli(t, env, "up", "--connect-timeout", "60s")
	<-promoted
	if next.code != 0 {
		t.Fatalf("first run exit %d; the next run did not converge: exit %d\n%s", r.code, next.code, next.stderr)
	}
	direct := standby.URL("carthub")
	if v := cli(t, dbEnv(direct), "verify"); v.code != 0 {
		t.Errorf("verify after the failover: exit %d\n%s", v.code, v.stderr)
	}
	if got := historyVersions(t, direct); len(got) != 5 {
		t.Errorf("history after the failover = %v, want 1..5", got)
	}
	if after := tableFingerprint(t, direct); after != before {
		t.Errorf("rows changed across the failover\nbefore %s\nafter  %s", before, after)
	}
	if k := query[int](t, direct, "SELECT count(*)::int FROM pg_index WHERE NOT indisvalid"); k != 0 {
		t.Errorf("%d INVALID indexes left", k)
	}
	if k := query[int](t, direct, "SELECT count(*)::int FROM pg_database WHERE datname LIKE 'carthub\\_preflight\\_%'"); k != 0 {
		t.Errorf("%d pre-flight scratch databases left", k)
	}
	t.Logf("first run exit %d; the next run converged in one go (%d connect retries logged)", r.code, countRetries(next.stderr))
}

func countRetries(stderr string) int {
	n := 0
	for _, l := range (result{stderr: stderr}).logs() {
		if l["msg"] == "database not reachable yet; retrying" {
			n++
		}
	}
	return n
}

// endpoint is a TCP proxy whose target can move, as a DNS endpoint does in a failover; moving it
// cuts the connections it carries.
type endpoint struct {
	addr   string
	mu     sync.Mutex
	target string
	conns  []net.Conn
}

func newEndpoint(t *testing.T, target string) *endpoint {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &endpoint{addr: ln.Addr().String(), target: target}
	t.Cleanup(func() { ln.Close(); e.point("") })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			e.mu.Lock()
			target := e.target
			e.mu.Unlock()
			s, err := net.DialTimeout("tcp", target, 2*time.Second)
			if err != nil {
				c.Close()
				continue
			}
			e.mu.Lock()
			e.conns = append(e.conns, c, s)
			e.mu.Unlock()
			go func() { _, _ = io.Copy(s, c); s.Close(); c.Close() }()
			go func() { _, _ = io.Copy(c, s); s.Close(); c.Close() }()
		}
	}()
	return e
}

func (e *endpoint) point(target string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.target = target
	for _, c := range e.conns {
		c.Close()
	}
	e.conns = nil
}
