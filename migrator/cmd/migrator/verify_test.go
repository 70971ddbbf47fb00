package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/carthub/carthub-db/migrator/internal/pgtest"
)

func TestVerifyReportsDamage(t *testing.T) {
	tests := []struct {
		name, damage string
		want         []string
	}{
		{"dropped_index", "DROP INDEX idx_orders_open_status",
			[]string{"index orders.idx_orders_open_status is missing"}},
		{"dropped_constraint", "ALTER TABLE cart_items DROP CONSTRAINT cart_items_quantity_positive",
			[]string{"constraint cart_items.cart_items_quantity_positive is missing"}},
		{"constraint_not_validated", "ALTER TABLE orders DROP CONSTRAINT orders_total_amount_nonnegative, ADD CONSTRAINT orders_total_amount_nonnegative CHECK (total_amount >= 0) NOT VALID",
			[]string{"constraint orders.orders_total_amount_nonnegative differs", "NOT VALID"}},
		{"invalid_index", `DROP INDEX idx_orders_customer_id_created_at;
INSERT INTO orders (customer_id, total_amount, created_at) VALUES ('twin', 1, '2026-01-01'), ('twin', 2, '2026-01-01');`,
			[]string{"index orders.idx_orders_customer_id_created_at differs", "INVALID"}},
		{"nullable_again", "ALTER TABLE cart_items ALTER COLUMN cart_id DROP NOT NULL",
			[]string{"column cart_items.cart_id differs", "expected: integer not null", "found:    integer"}},
		{"extra_column", "ALTER TABLE carts ADD COLUMN note text",
			[]string{"column carts.note is not in the expected schema"}},
		{"trigger_disabled", "ALTER TABLE carts DISABLE TRIGGER update_carts_updated_at",
			[]string{"trigger carts.update_carts_updated_at differs", "DISABLED"}},
		{"table_dropped", "DROP TABLE order_items",
			[]string{"table order_items is missing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := pgtest.NewDB(t)
			mustCode(t, cli(t, dbEnv(url), "up"), 0)
			pgtest.Exec(t, url, tt.damage)
			if tt.name == "invalid_index" {
				// A unique concurrent build over duplicates fails and leaves an INVALID index behind.
				conn := pgtest.Connect(t, url)
				if _, err := conn.Exec(t.Context(), "CREATE UNIQUE INDEX CONCURRENTLY idx_orders_customer_id_created_at ON orders (customer_id, created_at DESC)"); err == nil {
					t.Fatal("the unique build over duplicates succeeded")
				}
			}
			r := cli(t, dbEnv(url), "verify")
			mustCode(t, r, 5)
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("verify output lacks %q:\n%s", w, r.stderr)
				}
			}
			if tt.name == "table_dropped" && strings.Contains(r.stderr, "column order_items.") {
				t.Errorf("a missing table's columns are listed one by one:\n%s", r.stderr)
			}
		})
	}
}

// up drops an INVALID index left by an interrupted concurrent build, so a rerun rebuilds it.
func TestUpRebuildsIndexLeftInvalid(t *testing.T) {
	url := pgtest.NewDB(t)
	// What an interrupted 0005 leaves: its first index, INVALID.
	leaveInvalidIndex(t, url, "idx_orders_customer_id_created_at", "(customer_id, created_at DESC)")
	mustCode(t, cli(t, dbEnv(url), "up"), 0)
	mustCode(t, cli(t, dbEnv(url), "verify"), 0)
}

func TestVerifyBeforeUpSaysPending(t *testing.T) {
	url := pgtest.NewDB(t)
	r := cli(t, dbEnv(url), "verify")
	mustCode(t, r, 5)
	if !strings.Contains(r.stderr, "run `migrator up` first") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

// A logical restore (pg_dump | psql) re-parses every CHECK constraint and index from its printed
// form, and PostgreSQL prints some expressions differently the second time. verify compares
// meaning, so a restored database verifies clean, and every real difference is still reported.
func TestVerifyAfterRestore(t *testing.T) {
	type restore struct {
		name    string
		restore func(t *testing.T, from string) string
	}
	cases := []restore{{"recreated_from_printed_definitions", restoreFromPrintedDefinitions}}
	// A real pg_dump | psql where the machine has the server's pg_dump (Debian's 15: CI's
	// PostgreSQL 15 leg); the npm server builds ship no client tools.
	if pgDump := pgDumpFor(t); pgDump != "" {
		cases = append(cases, restore{"pg_dump_psql", func(t *testing.T, from string) string { return restoreWithPgDump(t, pgDump, from) }})
	} else {
		t.Log("no pg_dump of this server's major version here: the dump-and-restore case runs on PostgreSQL 15")
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			url := pgtest.NewDB(t)
			mustCode(t, cli(t, dbEnv(url), "up"), 0)
			restored := tt.restore(t, url)
			mustCode(t, cli(t, dbEnv(restored), "up", "--verify=always"), 0)
			mustCode(t, cli(t, dbEnv(restored), "verify"), 0)
			// The same comparison still sees a real change of meaning.
			pgtest.Exec(t, restored, `ALTER TABLE orders DROP CONSTRAINT orders_status_valid,
  ADD CONSTRAINT orders_status_valid CHECK (status IN ('pending', 'paid', 'shipped', 'delivered'))`)
			pgtest.Exec(t, restored, `DROP INDEX idx_orders_open_status;
CREATE INDEX idx_orders_open_status ON orders (status, created_at) WHERE status IN ('pending', 'paid')`)
			r := cli(t, dbEnv(restored), "verify")
			mustCode(t, r, 5)
			for _, want := range []string{"constraint orders.orders_status_valid differs", "index orders.idx_orders_open_status differs"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("verify output lacks %q:\n%s", want, r.stderr)
				}
			}
		})
	}
}

// pgDumpFor is the machine's pg_dump of the test server's major version, or "".
func pgDumpFor(t *testing.T) string {
	t.Helper()
	serverMajor := query[int](t, pgtest.NewDB(t), "SELECT current_setting('server_version_num')::int / 10000")
	pgDump := fmt.Sprintf("/usr/lib/postgresql/%d/bin/pg_dump", serverMajor)
	if _, err := os.Stat(pgDump); err != nil {
		return ""
	}
	return pgDump
}

// restoreWithPgDump copies the database with the machine's pg_dump and psql, as an operator would.
func restoreWithPgDump(t *testing.T, pgDump, from string) string {
	t.Helper()
	to := pgtest.NewDB(t)
	dump, err := exec.Command(pgDump, "--no-owner", "--dbname", from).Output()
	if err != nil {
		t.Fatalf("pg_dump: %v", err)
	}
	psql := exec.Command("psql", "--quiet", "--set", "ON_ERROR_STOP=1", "--dbname", to)
	psql.Stdin = bytes.NewReader(dump)
	if out, err := psql.CombinedOutput(); err != nil {
		t.Fatalf("psql restore: %v\n%s", err, out)
	}
	return to
}

// restoreFromPrintedDefinitions does to the schema what a restore does, on any version: every
// CHECK constraint and index of the four tables is dropped and created again from the text the
// catalog prints for it (pg_dump writes exactly that text).
func restoreFromPrintedDefinitions(t *testing.T, url string) string {
	t.Helper()
	pgtest.Exec(t, url, `DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT con.conrelid::regclass AS tbl, con.conname, pg_get_constraintdef(con.oid) AS def
             FROM pg_constraint con WHERE con.contype = 'c' AND con.connamespace = current_schema()::regnamespace LOOP
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I, ADD CONSTRAINT %I %s', r.tbl, r.conname, r.conname, r.def);
  END LOOP;
  FOR r IN SELECT ic.relname, pg_get_indexdef(i.indexrelid) AS def
             FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
            WHERE ic.relnamespace = current_schema()::regnamespace
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) LOOP
    EXECUTE format('DROP INDEX %I', r.relname);
    EXECUTE r.def;
  END LOOP;
END $$`)
	return url
}

// Only indexes the migrations create are cleaned up: an INVALID index that someone else's
// interrupted build left on the same table is not the migrator's to drop.
func TestUpLeavesOtherInvalidIndexesAlone(t *testing.T) {
	url := pgtest.NewDB(t)
	leaveInvalidIndex(t, url, "dba_unique_customer_day", "(customer_id, created_at)")
	mustCode(t, cli(t, dbEnv(url), "up"), 5) // verify reports the stranger, as it should
	if !query[bool](t, url, "SELECT EXISTS (SELECT 1 FROM pg_class WHERE relname = 'dba_unique_customer_day')") {
		t.Error("the migrator dropped an index it did not create")
	}
}

// leaveInvalidIndex migrates to 0004 and leaves an INVALID index on orders, as an interrupted
// concurrent build does: a unique build over duplicate rows fails half-way.
func leaveInvalidIndex(t *testing.T, url, name, columns string) {
	t.Helper()
	mustCode(t, cli(t, dbEnv(url), "up", "--to", "4"), 0)
	pgtest.Exec(t, url, `INSERT INTO orders (customer_id, total_amount, created_at) VALUES ('twin', 1, '2026-01-01'), ('twin', 2, '2026-01-01')`)
	conn := pgtest.Connect(t, url)
	if _, err := conn.Exec(t.Context(), "CREATE UNIQUE INDEX CONCURRENTLY "+name+" ON orders "+columns); err == nil {
		t.Fatal("the unique build over duplicates succeeded")
	}
}
