package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carthub/carthub-db/migrator/internal/pgtest"
)

// A live transaction holds a lock that the next migration needs. The migrator must give up
// after its lock_timeout, back off and retry, never keeping live traffic queued behind it
// longer than that, and succeed once the transaction ends.
func TestLiveTransactionHoldingALock(t *testing.T) {
	url := pgtest.NewDB(t)
	mustCode(t, cli(t, dbEnv(url), "up", "--to", "1"), 0)
	pgtest.Exec(t, url, "INSERT INTO carts (customer_id) VALUES ('live')")

	ctx := context.Background()
	holder := pgtest.Connect(t, url)
	tx, err := holder.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// An open cart update: ROW EXCLUSIVE on carts, which 0002's ALTER TABLE must wait for.
	if _, err := tx.Exec(ctx, "UPDATE carts SET customer_id = customer_id WHERE customer_id = 'live'"); err != nil {
		t.Fatal(err)
	}

	const lockTimeout = 200 * time.Millisecond
	// proceed: this is the path past the pre-flight's wait, lock_timeout and retries.
	p := start(t, dbEnv(url), "up", "--blocking-sessions", "proceed", "--lock-timeout", lockTimeout.String(), "--lock-retries", "100", "--retry-backoff", "100ms")

	// Live traffic: reads of carts, each allowed to wait for locks a little more than the
	// migrator's lock_timeout. If the migrator queued longer, these would fail.
	traffic := pgtest.Connect(t, url)
	if _, err := traffic.Exec(ctx, "SET lock_timeout = '1s'"); err != nil {
		t.Fatal(err)
	}
	var failures, reads atomic.Int64
	var maxWait atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			t0 := time.Now()
			if _, err := traffic.Exec(ctx, "SELECT count(*) FROM carts"); err != nil {
				failures.Add(1)
			}
			reads.Add(1)
			if d := time.Since(t0).Milliseconds(); d > maxWait.Load() {
				maxWait.Store(d)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()

	// Let the migrator hit lock_timeout a few times while traffic flows.
	waitFor(t, url, "SELECT count(*) > 0 FROM pg_stat_activity WHERE application_name = 'carthub-migrator' AND wait_event_type = 'Lock'")
	time.Sleep(1500 * time.Millisecond)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	r := p.wait(t)
	close(stop)
	wg.Wait()

	mustCode(t, r, 0)
	if !strings.Contains(r.stderr, "lock_timeout: another transaction holds a lock") {
		t.Errorf("the migrator never reported a lock_timeout retry:\n%s", r.stderr)
	}
	if failures.Load() > 0 {
		t.Errorf("%d of %d live reads failed waiting behind the migrator (slowest %d ms)", failures.Load(), reads.Load(), maxWait.Load())
	}
	if got := historyVersions(t, url); len(got) != 5 {
		t.Errorf("history = %v, want 1..5", got)
	}
}

// Another migrator holding the migration lock makes a second one give up with exit 4 after
// --lock-wait, naming the holder.
func TestLockWaitExpires(t *testing.T) {
	url := pgtest.NewDB(t)
	holder := pgtest.Connect(t, url)
	if _, err := holder.Exec(context.Background(), "SELECT pg_advisory_lock(x'63617274687562'::bigint)"); err != nil {
		t.Fatal(err)
	}
	r := cli(t, dbEnv(url), "up", "--lock-wait", "300ms")
	mustCode(t, r, 4)
	if !strings.Contains(r.stderr, "could not take the migration lock within") || !strings.Contains(r.stderr, "pid") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

// A concurrent index build waits for every older transaction in the database (here a report
// holding a REPEATABLE READ snapshot) and PostgreSQL counts that as a lock wait. It blocks no
// reads or writes, so the migrator lets it wait instead of timing out and rebuilding, and logs
// what it waits for.
func TestConcurrentIndexBuildWaitsForOldTransactions(t *testing.T) {
	url := pgtest.NewDB(t)
	mustCode(t, cli(t, dbEnv(url), "up", "--to", "4"), 0)
	ctx := context.Background()
	report := pgtest.Connect(t, url)
	tx, err := report.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT count(*) FROM carts"); err != nil { // takes the snapshot
		t.Fatal(err)
	}
	reportPID := report.PgConn().PID()
	const held = 3 * time.Second
	// No pre-flight: this is the build's own wait, which the report's open snapshot must meet
	// (on a busy machine the pre-flight could outlast the snapshot's three seconds).
	p := start(t, dbEnv(url), "up", "--preflight=false", "--lock-timeout", "300ms", "--lock-retries", "1", "--retry-backoff", "50ms", "--wait-report", "1s")
	time.Sleep(held)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	r := p.wait(t)
	mustCode(t, r, 0)
	if strings.Contains(r.stderr, "lock_timeout") {
		t.Errorf("the index build hit lock_timeout:\n%s", r.stderr)
	}
	var waited bool
	for _, l := range r.logs() {
		if l["msg"] == "concurrent index operation is waiting for older transactions to end; it blocks no reads or writes" &&
			strings.Contains(fmt.Sprint(l["waiting_for"]), fmt.Sprintf("pid %d", reportPID)) {
			waited = true
		}
	}
	if !waited {
		t.Errorf("no log line names the transaction the build waited for (pid %d):\n%s", reportPID, r.stderr)
	}
	mustCode(t, cli(t, dbEnv(url), "verify"), 0)
}

// --lock-retries 0 means no retry: the first lock_timeout fails the run.
func TestZeroLockRetriesMeansNone(t *testing.T) {
	url := pgtest.NewDB(t)
	mustCode(t, cli(t, dbEnv(url), "up", "--to", "1"), 0)
	ctx := context.Background()
	holder := pgtest.Connect(t, url)
	tx, err := holder.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "LOCK TABLE carts IN ACCESS SHARE MODE"); err != nil {
		t.Fatal(err)
	}
	r := cli(t, dbEnv(url), "up", "--blocking-sessions", "proceed", "--lock-timeout", "100ms", "--lock-retries", "0")
	mustCode(t, r, 1)
	if !strings.Contains(r.stderr, "gave up after 1 lock timeouts") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}
