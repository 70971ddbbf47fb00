package main

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/carthub/carthub-db/migrator/internal/pgtest"
)

// The Job's way to production's statements, end to end on a server that preloads
// pg_stat_statements as RDS does: a run by a role that may not create the extension applies and
// says who may; once it exists, a run that applies something logs the statements the application
// ran (normalized, without comments, none of the secrets its literals and comments held); lint
// merges that corpus with queries.sql, runs the new statements, and lists one it cannot run (a
// table made outside the migrations) as not checked instead of failing the file.
func TestTheJobLogsProductionStatementsForLint(t *testing.T) {
	ctx := context.Background()
	srv := pgtest.StatementsServer(t)
	admin := pgtest.Connect(t, srv.URL("postgres"))
	for _, sql := range []string{"CREATE ROLE owner LOGIN CREATEDB PASSWORD 'owner-pw'", "CREATE DATABASE carthub OWNER owner"} {
		if _, err := admin.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	u, _ := url.Parse(srv.URL("carthub"))
	u.User = url.UserPassword("owner", "owner-pw")
	ownerURL := u.String()

	// 1. Not a superuser, not RDS's master user: the migration is done, the log says who may.
	r := cli(t, dbEnv(ownerURL), "up", "--log-statements")
	mustCode(t, r, 0)
	if !strings.Contains(r.stderr, "may not create pg_stat_statements") || !strings.Contains(r.stderr, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements") {
		t.Errorf("a role that may not create the extension is not told who may:\n%s", r.stderr)
	}

	// 2. Created by one who may (on RDS the master user, whose rds_superuser reads all stats).
	db := pgtest.Connect(t, srv.URL("carthub"))
	simple := pgx.QueryExecModeSimpleProtocol
	for _, sql := range []string{
		"CREATE EXTENSION pg_stat_statements",
		"GRANT pg_read_all_stats TO owner",
		"CREATE TABLE app_only (id int)", // the application's own, made outside the migrations
		"GRANT ALL ON ALL TABLES IN SCHEMA public TO owner",
		"SELECT pg_stat_statements_reset()",
		// The application's traffic, secrets in its literals and comments.
		"/* user=SECRET-user */ SELECT id, status FROM orders WHERE customer_id = 'SECRET-customer' -- token SECRET-token",
		"UPDATE cart_items SET quantity = 424242 WHERE cart_id = 'SECRET-cart'::uuid IS NULL",
		"SELECT id FROM app_only WHERE id = 8675309",
		"ALTER ROLE owner PASSWORD 'SECRET-rotated'",
		"ALTER ROLE owner PASSWORD 'owner-pw'",
	} {
		if _, err := db.Exec(ctx, sql, simple); err != nil && !strings.Contains(sql, "cart_items") {
			t.Fatalf("%s: %v", sql, err)
		}
	}

	// 3. A run that applies something logs them.
	migDir := lintDir(t, "-- migrator:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_created ON orders (status, created_at);\n")
	r = cli(t, map[string]string{"DATABASE_URL": ownerURL, "MIGRATOR_DIR": migDir}, "up", "--log-statements")
	mustCode(t, r, 0)
	var logged string
	for _, l := range r.logs() {
		if l["msg"] == "application statements" {
			logged, _ = l["statements"].(string)
		}
	}
	for _, want := range []string{"SELECT id, status FROM orders WHERE customer_id = $1;", "SELECT id FROM app_only WHERE id = $1;"} {
		if !strings.Contains(logged, want) {
			t.Errorf("the logged statements lack %q:\n%s\n%s", want, logged, r.stderr)
		}
	}
	for _, secret := range []string{"SECRET", "424242", "8675309"} {
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("the Job's output holds %q:\n%s", secret, r.stderr)
		}
	}

	// 4. lint merges them with queries.sql; the statement on a table lint does not have is
	// listed, not a finding.
	stored := filepath.Join(t.TempDir(), "statements.sql")
	if err := os.WriteFile(stored, []byte(logged), 0o644); err != nil {
		t.Fatal(err)
	}
	r = cli(t, map[string]string{"MIGRATOR_DIR": migDir}, "lint", "--database-url", ownerURL, "--from", "6", "--rows", "2000",
		"--production-statements", stored, "--log-format", "json")
	mustCode(t, r, 0)
	merged := false
	for _, l := range r.logs() {
		if n, _ := l["new"].(float64); l["msg"] == "production statements merged with the application's" && n >= 2 {
			merged = true
		}
	}
	if !merged || !strings.Contains(r.stdout, "not checked") || !strings.Contains(r.stdout, "app_only") {
		t.Errorf("lint did not run production's statements beside queries.sql (want 2 or more new, app_only not checked):\n%s\n%s", r.stdout, r.stderr)
	}
}
