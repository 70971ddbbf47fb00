package migrate_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/carthub/carthub-db/migrator/internal/migrate"
	"github.com/carthub/carthub-db/migrator/internal/pgtest"
	"github.com/carthub/carthub-db/migrator/internal/schema"
)

// 0002 converts the timestamps to timestamptz without rewriting the tables: the relation files
// stay the same, so a large table is not copied under an exclusive lock.
func TestTimestamptzConversionDoesNotRewrite(t *testing.T) {
	conn := connect(t, pgtest.NewDB(t))
	m := newMigrator(t, conn, migrate.Options{})
	up(t, m, 1)
	ctx := context.Background()
	if _, err := conn.Exec(ctx, "INSERT INTO carts (customer_id, created_at) VALUES ('c1', '2026-03-01 12:00:00')"); err != nil {
		t.Fatal(err)
	}
	before := map[string]uint32{}
	for _, tbl := range []string{"carts", "cart_items", "orders", "order_items"} {
		var node uint32
		if err := conn.QueryRow(ctx, "SELECT relfilenode FROM pg_class WHERE relname = $1", tbl).Scan(&node); err != nil {
			t.Fatal(err)
		}
		before[tbl] = node
	}
	up(t, m, 2)
	for tbl, node := range before {
		var after uint32
		if err := conn.QueryRow(ctx, "SELECT relfilenode FROM pg_class WHERE relname = $1", tbl).Scan(&after); err != nil {
			t.Fatal(err)
		}
		if after != node {
			t.Errorf("%s was rewritten (relfilenode %d -> %d)", tbl, node, after)
		}
	}
	var created time.Time
	if err := conn.QueryRow(ctx, "SELECT created_at FROM carts WHERE customer_id = 'c1'").Scan(&created); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC); !created.Equal(want) {
		t.Errorf("created_at = %v, want %v (legacy values are UTC)", created, want)
	}
}

func TestTriggerKeepsUpdatedAtCurrent(t *testing.T) {
	conn := connect(t, pgtest.NewDB(t))
	up(t, newMigrator(t, conn, migrate.Options{}), 0)
	ctx := context.Background()
	for _, tbl := range []string{"carts", "cart_items", "orders"} {
		t.Run(tbl, func(t *testing.T) {
			var id int
			insert := map[string]string{
				"carts":      "INSERT INTO carts (customer_id, updated_at) VALUES ('trig', '2020-01-01') RETURNING id",
				"cart_items": "INSERT INTO cart_items (cart_id, product_id, product_name, price, updated_at) VALUES ((SELECT id FROM carts WHERE customer_id = 'trig'), 'p', 'P', 1, '2020-01-01') RETURNING id",
				"orders":     "INSERT INTO orders (customer_id, total_amount, updated_at) VALUES ('trig', 1, '2020-01-01') RETURNING id",
			}[tbl]
			if err := conn.QueryRow(ctx, insert).Scan(&id); err != nil {
				t.Fatal(err)
			}
			var updated time.Time
			if err := conn.QueryRow(ctx, "UPDATE "+tbl+" SET created_at = created_at WHERE id = $1 RETURNING updated_at", id).Scan(&updated); err != nil {
				t.Fatal(err)
			}
			if time.Since(updated) > time.Minute {
				t.Errorf("updated_at after an update = %v, want now", updated)
			}
		})
	}
}

func TestConstraintsRejectBadRows(t *testing.T) {
	conn := connect(t, pgtest.NewDB(t))
	up(t, newMigrator(t, conn, migrate.Options{}), 0)
	ctx := context.Background()
	if _, err := conn.Exec(ctx, `INSERT INTO carts (id, customer_id) VALUES (1, 'c');
INSERT INTO orders (id, customer_id, total_amount) VALUES (1, 'c', 5)`); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, sql, code string }{
		{"negative_item_price", "INSERT INTO cart_items (cart_id, product_id, product_name, price) VALUES (1, 'p', 'P', -0.01)", "23514"},
		{"zero_quantity", "INSERT INTO cart_items (cart_id, product_id, product_name, price, quantity) VALUES (1, 'p', 'P', 1, 0)", "23514"},
		{"item_without_cart", "INSERT INTO cart_items (cart_id, product_id, product_name, price) VALUES (NULL, 'p', 'P', 1)", "23502"},
		{"duplicate_product_in_cart", "INSERT INTO cart_items (cart_id, product_id, product_name, price) VALUES (1, 'd', 'P', 1), (1, 'd', 'P', 1)", "23505"},
		{"second_cart_for_customer", "INSERT INTO carts (customer_id) VALUES ('c')", "23505"},
		{"negative_total", "INSERT INTO orders (customer_id, total_amount) VALUES ('c', -1)", "23514"},
		{"unknown_status", "INSERT INTO orders (customer_id, total_amount, status) VALUES ('c', 1, 'lost')", "23514"},
		{"null_status", "INSERT INTO orders (customer_id, total_amount, status) VALUES ('c', 1, NULL)", "23502"},
		{"negative_order_item_price", "INSERT INTO order_items (order_id, product_id, product_name, price, quantity) VALUES (1, 'p', 'P', -1, 1)", "23514"},
		{"order_item_without_order", "INSERT INTO order_items (order_id, product_id, product_name, price, quantity) VALUES (NULL, 'p', 'P', 1, 1)", "23502"},
		{"order_item_unknown_order", "INSERT INTO order_items (order_id, product_id, product_name, price, quantity) VALUES (999, 'p', 'P', 1, 1)", "23503"},
		{"null_created_at", "INSERT INTO carts (customer_id, created_at) VALUES ('n', NULL)", "23502"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := conn.Exec(ctx, tt.sql)
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || pgErr.Code != tt.code {
				t.Errorf("%s: error %v, want SQLSTATE %s", tt.sql, err, tt.code)
			}
		})
	}
	var status string
	if err := conn.QueryRow(ctx, "INSERT INTO orders (customer_id, total_amount) VALUES ('d', 1) RETURNING status").Scan(&status); err != nil || status != "pending" {
		t.Errorf("default status = %q (%v), want pending", status, err)
	}
}

// Rows that break the new rules stop 0004 before it adds anything, with a count per rule.
func TestCheckConstraintsRefuseBadLegacyRowsAndChangeNothing(t *testing.T) {
	conn := connect(t, pgtest.NewDB(t))
	m := newMigrator(t, conn, migrate.Options{})
	up(t, m, 3)
	ctx := context.Background()
	if _, err := conn.Exec(ctx, `INSERT INTO carts (id, customer_id) VALUES (1, 'c');
INSERT INTO cart_items (cart_id, product_id, product_name, price, quantity) VALUES (1, 'p', 'P', 1, 0), (1, 'q', 'Q', 1, -2);
INSERT INTO orders (customer_id, total_amount, status) VALUES ('c', 1, 'completed')`); err != nil {
		t.Fatal(err)
	}
	_, err := apply(t, m, 0)
	var partial *migrate.PartialError
	if !errors.As(err, &partial) || partial.Failed.Version != 4 {
		t.Fatalf("Apply error = %v, want a PartialError on 0004", err)
	}
	for _, want := range []string{"cart_items: 2 rows with quantity <= 0", "orders: 1 rows with a status outside", "HINT: Correct or remove those rows", "0004_check_constraints.sql:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_constraint WHERE contype = 'c' AND conrelid IN ('orders'::regclass, 'cart_items'::regclass)").Scan(&n); err != nil || n != 0 {
		t.Errorf("%d CHECK constraints were added (%v), want none", n, err)
	}
}

// A statement the server rejects is reported with its file, line and column, and a caret.
func TestStatementErrorPointsAtTheMistake(t *testing.T) {
	conn := connect(t, pgtest.NewDB(t))
	migs, err := migrate.Load(fstest.MapFS{
		"0001_ok.sql":  {Data: []byte("CREATE TABLE t (a int);\n")},
		"0002_bad.sql": {Data: []byte("-- header\nALTER TABLE t ADD COLUMN b int;\nCREATE VIEW v AS\n    SELECT a, bb FROM t;\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := newMigrator(t, conn, migrate.Options{Migrations: migs, Baseline: schema.Snapshot{}, Tables: []string{}})
	ctx := context.Background()
	done, err := apply(t, m, 0)
	if len(done) != 1 || err == nil {
		t.Fatalf("Apply = %d applied, %v; want 0001 applied and 0002 failed", len(done), err)
	}
	want := `0002_bad.sql:4:15: ERROR: column "bb" does not exist (SQLSTATE 42703)
  HINT: Perhaps you meant to reference the column "t.b".
    4 |     SELECT a, bb FROM t
      |               ^`
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error:\n%v\nwant it to contain:\n%s", err, want)
	}
	var cols int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM information_schema.columns WHERE table_name = 't'").Scan(&cols); err != nil || cols != 1 {
		t.Errorf("table t has %d columns (%v): the failed migration's transaction was not rolled back", cols, err)
	}
}

// Rows written between 0003 (the backfill, already recorded) and 0004 may hold NULLs again: the
// pre-check counts them too, so 0004 stops before adding a single NOT VALID constraint that live
// writes would then trip over.
func TestCheckConstraintsRefuseNullsWrittenAfterTheBackfill(t *testing.T) {
	conn := connect(t, pgtest.NewDB(t))
	m := newMigrator(t, conn, migrate.Options{})
	up(t, m, 3)
	ctx := context.Background()
	if _, err := conn.Exec(ctx, `INSERT INTO carts (id, customer_id, created_at) VALUES (1, 'c', NULL);
INSERT INTO orders (customer_id, total_amount, status, updated_at) VALUES ('c', 1, NULL, NULL)`); err != nil {
		t.Fatal(err)
	}
	const checks = "SELECT count(*) FROM pg_constraint WHERE contype = 'c' AND connamespace = current_schema()::regnamespace"
	var before int
	if err := conn.QueryRow(ctx, checks).Scan(&before); err != nil {
		t.Fatal(err)
	}
	_, err := apply(t, m, 0)
	if err == nil {
		t.Fatal("0004 applied over NULLs")
	}
	for _, want := range []string{"carts: 1 rows with no created_at or updated_at", "orders: 1 rows with no created_at or updated_at", "orders: 1 rows with no status"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	var n int
	if err := conn.QueryRow(ctx, checks).Scan(&n); err != nil || n != before {
		t.Errorf("%d CHECK constraints were added before the refusal (%v), want none", n-before, err)
	}
}

// 0002's type change drops the columns' statistics; the migrations gather them again.
func TestTimestampColumnsHaveStatisticsAfterMigrating(t *testing.T) {
	conn := connect(t, pgtest.NewDB(t))
	m := newMigrator(t, conn, migrate.Options{})
	up(t, m, 1)
	ctx := context.Background()
	if _, err := conn.Exec(ctx, `INSERT INTO orders (customer_id, total_amount, status) SELECT 'c' || g, g, 'pending' FROM generate_series(1, 500) g;
ANALYZE orders`); err != nil {
		t.Fatal(err)
	}
	up(t, m, 0)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_stats WHERE tablename = 'orders' AND attname IN ('created_at', 'updated_at')").Scan(&n); err != nil || n != 2 {
		t.Errorf("orders has statistics for %d of its 2 timestamp columns (%v)", n, err)
	}
}
