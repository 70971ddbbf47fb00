package pgtest

import (
	"context"
	"os"
	"testing"

	"github.com/carthub/carthub-db/migrator/internal/pgserver"
)

// StatementsServer starts a server of the test's own (PG_BINDIR's build) that preloads
// pg_stat_statements as RDS does, and removes it after the test. It is a superuser's server: the
// shared test server does not preload the library, and a capture needs one that does.
func StatementsServer(t testing.TB) *pgserver.Server {
	t.Helper()
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "carthub-statements-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pgserver.Remove(ctx, dir) })
	srv, err := pgserver.Start(ctx, pgserver.Options{Dir: dir, Settings: []string{"shared_preload_libraries=pg_stat_statements"}})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}
