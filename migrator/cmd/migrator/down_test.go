package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/carthub/carthub-db/migrator/internal/pgtest"
)

func TestDownAndUpAgain(t *testing.T) {
	url := pgtest.NewDB(t)
	mustCode(t, cli(t, dbEnv(url), "up", "--seed", "demo"), 0)

	dry := cli(t, dbEnv(url), "down", "--to", "1")
	mustCode(t, dry, 2)
	if !strings.Contains(dry.stdout, "would revert 0005_query_indexes.sql") || !strings.Contains(dry.stderr, "without --yes") {
		t.Fatalf("down without --yes:\n%s\n%s", dry.stdout, dry.stderr)
	}
	if got := historyVersions(t, url); len(got) != 5 {
		t.Fatalf("down without --yes changed the history: %v", got)
	}

	mustCode(t, cli(t, dbEnv(url), "down", "--to", "1", "--yes"), 0)
	if got := historyVersions(t, url); len(got) != 1 {
		t.Fatalf("history after down --to 1 = %v", got)
	}
	// Back at the baseline: exactly the legacy schema, so a fresh migrator would adopt it.
	pgtest.Exec(t, url, "DROP TABLE carthub_schema_history")
	st := cli(t, dbEnv(url), "status")
	if !strings.Contains(st.stdout, "legacy schema without history: `up` will adopt it") {
		t.Errorf("after down to 1 the schema is not the baseline:\n%s", st.stdout)
	}
	mustCode(t, cli(t, dbEnv(url), "up"), 0)
	if n := query[int64](t, url, "SELECT count(*) FROM order_items"); n != 20 {
		t.Errorf("order_items after down and up = %d, want the 20 demo rows", n)
	}

	refuse := cli(t, dbEnv(url), "down", "--to", "0", "--yes")
	mustCode(t, refuse, 1)
	if !strings.Contains(refuse.stderr, "0001_baseline.sql has no down part") {
		t.Errorf("stderr:\n%s", refuse.stderr)
	}
	if got := historyVersions(t, url); len(got) != 5 {
		t.Errorf("a refused down changed the history: %v", got)
	}
}

func TestPlanStatusAndCreate(t *testing.T) {
	url := pgtest.NewDB(t)
	plan := cli(t, dbEnv(url), "plan")
	mustCode(t, plan, 0)
	for _, f := range []string{"0001_baseline.sql (in one transaction)", "0005_query_indexes.sql (outside a transaction", "CREATE INDEX CONCURRENTLY"} {
		if !strings.Contains(plan.stdout, f) {
			t.Errorf("plan lacks %q", f)
		}
	}
	if query[bool](t, url, "SELECT to_regclass('carts') IS NOT NULL") {
		t.Fatal("plan changed the database")
	}
	mustCode(t, cli(t, dbEnv(url), "status", "--exit-code"), 7)
	mustCode(t, cli(t, dbEnv(url), "up", "--to", "3"), 0)
	pending := cli(t, dbEnv(url), "status", "--exit-code")
	mustCode(t, pending, 7)
	if !strings.Contains(pending.stdout, "0004     check_constraints  pending") {
		t.Errorf("status:\n%s", pending.stdout)
	}
	if p := cli(t, dbEnv(url), "plan"); !strings.Contains(p.stdout, "0004_check_constraints.sql") || strings.Contains(p.stdout, "0003_backfill") {
		t.Errorf("plan after --to 3:\n%s", p.stdout)
	}

	dir := t.TempDir()
	src, _ := os.ReadFile(filepath.Join("..", "..", "..", "migrations", "0001_baseline.sql"))
	if err := os.WriteFile(filepath.Join(dir, "0001_baseline.sql"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	c := cli(t, nil, "create", "add_cart_expiry", "--dir", dir)
	mustCode(t, c, 0)
	if strings.TrimSpace(c.stdout) != filepath.Join(dir, "0002_add_cart_expiry.sql") {
		t.Errorf("create printed %q", c.stdout)
	}
	mustCode(t, cli(t, nil, "create", "Bad-Name", "--dir", dir), 2)
	mustCode(t, cli(t, nil, "create", "add_cart_expiry", "--dir", filepath.Join(dir, "missing")), 2)
}
