package main

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/carthub/carthub-db/migrator/internal/pgtest"
)

// A pre-flight cut off (a failover, a kill) leaves its scratch database behind; the next run that
// takes the lock drops it, however young it is.
func TestLeftScratchDatabaseIsDroppedUnderTheLock(t *testing.T) {
	url := pgtest.NewDB(t)
	pgtest.Exec(t, url, legacyFixture(t))
	left := "carthub_preflight_" + strings.TrimSpace(query[string](t, url, "SELECT extract(epoch FROM now())::int8::text")) + "_0badf00d"
	pgtest.Exec(t, url, "CREATE DATABASE "+left)
	t.Cleanup(func() {
		ctx := context.Background()
		if conn, err := pgx.Connect(ctx, url); err == nil {
			_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+left)
			conn.Close(ctx)
		}
	})
	r := cli(t, dbEnv(url), "up")
	mustCode(t, r, 0)
	if query[bool](t, url, "SELECT count(*) > 0 FROM pg_database WHERE datname = $1", left) {
		t.Fatalf("the scratch database %s an earlier run left is still there\n%s", left, r.stderr)
	}
	if !strings.Contains(r.stderr, left) {
		t.Errorf("the drop of %s is not logged\n%s", left, r.stderr)
	}
}
