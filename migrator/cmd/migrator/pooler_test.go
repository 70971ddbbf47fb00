package main

import (
	"strings"
	"sync"
	"testing"

	"github.com/carthub/carthub-db/migrator/internal/pgtest"
)

// Through pgbouncer in transaction mode the session-level migration lock protects nothing. Four
// migrators at once on an empty database are all refused, with the fix in the message, before
// any of them changes anything; and no lock is left behind on a pooled server session.
func TestTransactionPoolerIsRefused(t *testing.T) {
	url := pgtest.NewDB(t)
	pooled := pgtest.Pgbouncer(t, url, "transaction")
	var wg sync.WaitGroup
	results := make([]result, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = cli(t, dbEnv(pooled), "up", "--lock-wait", "10s", "--retry-backoff", "50ms")
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.code != 2 || !strings.Contains(r.stderr, "transaction-mode connection pooler") || !strings.Contains(r.stderr, "nothing was changed") {
			t.Errorf("migrator %d: exit %d, want 2 with the pooler explained\n%s", i, r.code, r.stderr)
		}
	}
	if n := query[int](t, url, "SELECT count(*)::int FROM pg_class WHERE relnamespace = 'public'::regnamespace"); n != 0 {
		t.Errorf("%d relations exist after the refusals, want none", n)
	}
	if n := query[int](t, url, "SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory'"); n != 0 {
		t.Errorf("%d advisory locks left on pooled server sessions", n)
	}
	// Session pooling keeps a client on one server session: the lock works, so the run does.
	session := pgtest.Pgbouncer(t, url, "session")
	mustCode(t, cli(t, dbEnv(session), "up", "--lock-wait", "10s"), 0)
	mustCode(t, cli(t, dbEnv(url), "verify"), 0)
}
