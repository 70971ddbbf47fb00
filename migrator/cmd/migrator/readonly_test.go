package main

import (
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carthub/carthub-db/migrator/internal/pgtest"
)

// Through an endpoint that still reaches a read-only server (a hot standby during a failover),
// up keeps trying within --connect-timeout and then exits 3 saying so; once the server takes
// writes again, the same command converges.
func TestReadOnlyServerIsWaitedForThenExit3(t *testing.T) {
	url := pgtest.NewDB(t)
	pgtest.Exec(t, url, legacyFixture(t))
	db := strings.TrimPrefix(mustParseURL(t, url).Path, "/")
	setReadOnly := func(on bool) {
		v := "on"
		if !on {
			v = "off"
		}
		// The session itself writes (its own setting wins over the database's).
		pgtest.Exec(t, url+"&options=-c%20default_transaction_read_only%3Doff", "ALTER DATABASE "+pgx.Identifier{db}.Sanitize()+" SET default_transaction_read_only = "+v)
	}
	setReadOnly(true)
	r := cli(t, dbEnv(url), "up", "--connect-timeout", "2s")
	if r.code != 3 || !strings.Contains(r.stderr, "the server is a read-only standby") || strings.Contains(r.stderr, "CREATEDB") {
		t.Fatalf("exit %d, want 3 with \"the server is a read-only standby\" (and no CREATEDB advice)\n%s", r.code, r.stderr)
	}
	if n := strings.Count(r.stderr, "database not reachable yet; retrying"); n < 2 {
		t.Errorf("%d retries logged within --connect-timeout, want it waited for the endpoint to move\n%s", n, r.stderr)
	}
	// The endpoint moves: the server takes writes a moment after the run started.
	p := start(t, dbEnv(url), "up", "--connect-timeout", "30s")
	time.Sleep(1500 * time.Millisecond)
	setReadOnly(false)
	mustCode(t, p.wait(t), 0)
	mustCode(t, cli(t, dbEnv(url), "verify"), 0)
}
