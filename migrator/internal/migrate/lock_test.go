package migrate_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/carthub/carthub-db/migrator/internal/migrate"
	"github.com/carthub/carthub-db/migrator/internal/pgtest"
)

// The lock is a session advisory lock, seen in pg_locks while held and gone after release, and a
// second migrator polls for it instead of blocking in the server.
func TestLockIsExclusiveAndPolled(t *testing.T) {
	url := pgtest.NewDB(t)
	first := newMigrator(t, connect(t, url), migrate.Options{})
	second := newMigrator(t, connect(t, url), migrate.Options{LockWait: 400 * time.Millisecond})
	observer := connect(t, url)
	ctx := context.Background()
	held := func() (granted, waiting int) {
		if err := observer.QueryRow(ctx, `SELECT count(*) FILTER (WHERE granted), count(*) FILTER (WHERE NOT granted)
  FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&granted, &waiting); err != nil {
			t.Fatal(err)
		}
		return
	}

	release, err := first.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if g, _ := held(); g != 1 {
		t.Fatalf("advisory locks granted while held = %d, want 1", g)
	}
	done := make(chan error, 1)
	go func() {
		_, err := second.Lock(ctx)
		done <- err
	}()
	time.Sleep(150 * time.Millisecond)
	if _, w := held(); w != 0 {
		t.Errorf("%d sessions wait on the advisory lock inside the server; the migrator must poll", w)
	}
	var lockErr *migrate.LockError
	if err := <-done; !errors.As(err, &lockErr) {
		t.Fatalf("second Lock = %v, want a LockError", err)
	}
	release()
	if g, _ := held(); g != 0 {
		t.Errorf("advisory locks granted after release = %d, want 0", g)
	}
	again, err := second.Lock(ctx)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	again()
}

// A cancelled context still releases the lock.
func TestLockReleasedAfterCancel(t *testing.T) {
	url := pgtest.NewDB(t)
	m := newMigrator(t, connect(t, url), migrate.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	release, err := m.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	release()
	other := newMigrator(t, connect(t, url), migrate.Options{LockWait: 100 * time.Millisecond})
	r, err := other.Lock(context.Background())
	if err != nil {
		t.Fatalf("lock was not released after cancel: %v", err)
	}
	r()
}
