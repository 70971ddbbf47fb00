package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Dataset sizes at scale 1: 1M carts with about 5M items, 1M orders with about 3M items.
type Dataset struct {
	Carts, Orders int
}

// Tables are the legacy schema's four tables, which Load fills.
var Tables = []string{"carts", "cart_items", "orders", "order_items"}

// DatasetAt scales the full dataset.
func DatasetAt(scale float64) Dataset {
	return Dataset{Carts: int(1_000_000 * scale), Orders: int(1_000_000 * scale)}
}

// itemsOfCart is 3..7 items, 5 on average; itemsOfOrder is 2..4, 3 on average.
func itemsOfCart(c int) int  { return 3 + c%5 }
func itemsOfOrder(o int) int { return 2 + o%3 }

var statuses = []string{"delivered", "delivered", "delivered", "delivered", "delivered", "delivered", "delivered", "shipped", "pending", "processing", "cancelled"}

// Load fills the baseline schema through COPY and returns the rows loaded. A few legacy rows
// carry NULL timestamps and statuses, as the old service left them, so the backfill has work.
func Load(ctx context.Context, conn *pgx.Conn, d Dataset) (rows int64, err error) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(i int) any {
		if i%1000 == 7 {
			return nil
		}
		return base.Add(time.Duration(i%300*24) * time.Hour).Add(time.Duration(i%86400) * time.Second)
	}
	copyRows := func(table string, cols []string, n int, row func(i int) []any) error {
		i := 0
		c, err := conn.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromFunc(func() ([]any, error) {
			if i >= n {
				return nil, nil
			}
			i++
			return row(i), nil
		}))
		rows += c
		if err != nil {
			return fmt.Errorf("copy %s: %w", table, err)
		}
		return nil
	}
	if err := copyRows("carts", []string{"id", "customer_id", "created_at", "updated_at"}, d.Carts, func(i int) []any {
		return []any{i, customer(i), at(i), at(i)}
	}); err != nil {
		return rows, err
	}
	cart, k := 1, 0
	total := 0
	for c := 1; c <= d.Carts; c++ {
		total += itemsOfCart(c)
	}
	if err := copyRows("cart_items", []string{"id", "cart_id", "product_id", "product_name", "price", "quantity", "created_at", "updated_at"}, total, func(i int) []any {
		if k == itemsOfCart(cart) {
			cart, k = cart+1, 0
		}
		k++
		return []any{i, cart, fmt.Sprintf("sku-%05d", (cart*7+k*13)%50000), "Product", float64(100+i%9000) / 100, 1 + i%4, at(i), at(i)}
	}); err != nil {
		return rows, err
	}
	if err := copyRows("orders", []string{"id", "customer_id", "total_amount", "status", "created_at", "updated_at"}, d.Orders, func(i int) []any {
		var status any = statuses[i%len(statuses)]
		if i%1000 == 3 {
			status = nil
		}
		return []any{i, customer(1 + (i*7919)%max(d.Carts, 1)), float64(1000+i%50000) / 100, status, at(i), at(i)}
	}); err != nil {
		return rows, err
	}
	order, k := 1, 0
	total = 0
	for o := 1; o <= d.Orders; o++ {
		total += itemsOfOrder(o)
	}
	if err := copyRows("order_items", []string{"id", "order_id", "product_id", "product_name", "price", "quantity", "created_at"}, total, func(i int) []any {
		if k == itemsOfOrder(order) {
			order, k = order+1, 0
		}
		k++
		return []any{i, order, fmt.Sprintf("sku-%05d", (order*11+k)%50000), "Product", float64(100+i%9000) / 100, 1 + i%3, at(i)}
	}); err != nil {
		return rows, err
	}
	for _, t := range Tables {
		if _, err := conn.Exec(ctx, fmt.Sprintf("SELECT setval('%s_id_seq', (SELECT max(id) FROM %s))", t, t)); err != nil {
			return rows, err
		}
	}
	_, err = conn.Exec(ctx, "VACUUM ANALYZE")
	return rows, err
}

func customer(i int) string { return fmt.Sprintf("customer-%07d", i) }
