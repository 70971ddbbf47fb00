package main

import (
	"strings"
	"testing"

	"github.com/carthub/carthub-db/migrator/internal/pgtest"
)

// A no-transaction file that fails part-way leaves its earlier statements live. The history says
// so (status shows PARTIAL with the statement reached and the error), and the next run resumes
// at the failing statement instead of calling the file pending.
func TestPartlyAppliedFileIsRecordedAndResumed(t *testing.T) {
	dir := writeMigrations(t, map[string]string{
		"0001_table.sql": "CREATE TABLE items (id int PRIMARY KEY, qty int);\nINSERT INTO items VALUES (1, 5), (2, -1);\n",
		"0002_rules.sql": `-- migrator:no-transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS items_qty ON items (qty);
ALTER TABLE items ADD CONSTRAINT items_qty_positive CHECK (qty > 0);
CREATE INDEX CONCURRENTLY IF NOT EXISTS items_id_qty ON items (id, qty);
`,
	})
	url := pgtest.NewDB(t)
	env := map[string]string{"DATABASE_URL": url, "MIGRATOR_DIR": dir}
	r := cli(t, env, "up")
	mustCode(t, r, 1)
	if !strings.Contains(r.stderr, "items_qty_positive") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	if got := query[string](t, url, "SELECT kind || ':' || statements_done FROM carthub_schema_history WHERE version = 2"); got != "partial:1" {
		t.Errorf("history row of 0002 = %q, want partial:1", got)
	}
	st := cli(t, env, "status")
	mustCode(t, st, 0)
	if !strings.Contains(st.stdout, "PARTIAL: 1 of 3 statements ran, then:") || !strings.Contains(st.stdout, "check constraint") {
		t.Errorf("status does not show the partly applied file:\n%s", st.stdout)
	}
	pgtest.Exec(t, url, "UPDATE items SET qty = 1 WHERE qty < 0")
	r = cli(t, env, "up")
	mustCode(t, r, 0)
	resumed := false
	for _, l := range r.logs() {
		if l["msg"] == "resuming a partly applied file" && l["statements_done"] == float64(1) {
			resumed = true
		}
	}
	if !resumed {
		t.Errorf("the rerun did not resume at statement 2:\n%s", r.stderr)
	}
	if got := query[string](t, url, "SELECT kind || ':' || coalesce(statements_done, 0) || ':' || coalesce(error, '') FROM carthub_schema_history WHERE version = 2"); got != "applied:0:" {
		t.Errorf("history row of 0002 after the rerun = %q, want applied with no error", got)
	}
}

// An index with the right name and another definition: IF NOT EXISTS skips it, the file is
// recorded, and verify fails. That failure is recorded, so the next run is not a clean no-op.
func TestFailedVerifyIsNotForgotten(t *testing.T) {
	url := pgtest.NewDB(t)
	env := dbEnv(url)
	mustCode(t, cli(t, env, "up", "--to", "4"), 0)
	pgtest.Exec(t, url, "CREATE INDEX idx_orders_open_status ON orders (created_at)")
	mustCode(t, cli(t, env, "up"), 5)
	r := cli(t, env, "up")
	mustCode(t, r, 5)
	if !strings.Contains(r.stderr, "index orders.idx_orders_open_status differs") {
		t.Errorf("the second up did not verify again:\n%s", r.stderr)
	}
	st := cli(t, env, "status")
	if !strings.Contains(st.stdout, "VERIFY FAILED") {
		t.Errorf("status:\n%s", st.stdout)
	}
	// Repaired by hand: the next up verifies, clears the record, and the one after is a no-op.
	pgtest.Exec(t, url, "DROP INDEX idx_orders_open_status; CREATE INDEX idx_orders_open_status ON orders (status, created_at) WHERE status IN ('pending', 'processing')")
	mustCode(t, cli(t, env, "up"), 0)
	r = cli(t, env, "up")
	mustCode(t, r, 0)
	if !strings.Contains(r.stderr, "nothing to apply") {
		t.Errorf("the up after a passing verify was not a no-op:\n%s", r.stderr)
	}
}

// A file's SET does not leak into the next file or into the history insert, in a transaction or
// outside one.
func TestSessionIsResetBetweenFiles(t *testing.T) {
	dir := writeMigrations(t, map[string]string{
		"0001_wander.sql": "CREATE SCHEMA elsewhere;\nSET search_path = elsewhere;\nSET statement_timeout = '1ms';\n",
		"0002_table.sql":  "CREATE TABLE here (id int);\nSELECT pg_sleep(0.05);\n",
		"0003_wander.sql": "-- migrator:no-transaction\nSET search_path = elsewhere;\nSET statement_timeout = '1ms';\n",
		"0004_table.sql":  "CREATE TABLE there (id int);\nSELECT pg_sleep(0.05);\n",
	})
	url := pgtest.NewDB(t)
	mustCode(t, cli(t, map[string]string{"DATABASE_URL": url, "MIGRATOR_DIR": dir}, "up"), 0)
	if !query[bool](t, url, "SELECT to_regclass('public.here') IS NOT NULL AND to_regclass('public.there') IS NOT NULL AND to_regclass('elsewhere.carthub_schema_history') IS NULL") {
		t.Error("0002 or the history ran in the schema 0001 switched to")
	}
}

// A history table of the first release (no partial or verify columns) is upgraded in place.
func TestHistoryOfTheFirstReleaseIsUpgraded(t *testing.T) {
	url := pgtest.NewDB(t)
	mustCode(t, cli(t, dbEnv(url), "up", "--to", "4"), 0)
	pgtest.Exec(t, url, `ALTER TABLE carthub_schema_history DROP COLUMN statements_done, DROP COLUMN error, DROP COLUMN verify_error`)
	mustCode(t, cli(t, dbEnv(url), "status"), 0)
	mustCode(t, cli(t, dbEnv(url), "up"), 0)
	if got := query[int](t, url, "SELECT count(*)::int FROM information_schema.columns WHERE table_name = 'carthub_schema_history' AND column_name IN ('statements_done', 'error', 'verify_error')"); got != 3 {
		t.Errorf("history has %d of the 3 new columns", got)
	}
	mustCode(t, cli(t, dbEnv(url), "verify"), 0)
}
