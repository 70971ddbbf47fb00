package main

import (
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
	mustCode(t, cli(t, dbEnv(url), "up", "--to", "4"), 0)
	// What an interrupted 0005 leaves: its first index, INVALID.
	pgtest.Exec(t, url, `INSERT INTO orders (customer_id, total_amount, created_at) VALUES ('twin', 1, '2026-01-01'), ('twin', 2, '2026-01-01')`)
	conn := pgtest.Connect(t, url)
	_, _ = conn.Exec(t.Context(), "CREATE UNIQUE INDEX CONCURRENTLY idx_orders_customer_id_created_at ON orders (customer_id, created_at DESC)")
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
