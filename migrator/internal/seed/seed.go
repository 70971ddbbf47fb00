// Package seed loads data into a migrated Carthub database: the small demo dataset for local use.
package seed

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Names lists the datasets `migrator up --seed` accepts.
var Names = []string{"demo"}

// Result counts the rows a seed inserted (zero on a second run: seeds are idempotent).
type Result struct {
	Carts, CartItems, Orders, OrderItems int64
}

// demoSQL inserts five demo customers' carts and orders. Every statement skips rows that are
// already there (by the unique keys, or by the demo order's reference for orders), so running it
// again changes nothing.
var demoSQL = []string{
	`INSERT INTO carts (customer_id)
SELECT 'demo-customer-' || n FROM generate_series(1, 5) AS n
ON CONFLICT (customer_id) DO NOTHING`,
	`INSERT INTO cart_items (cart_id, product_id, product_name, price, quantity)
SELECT c.id, p.product_id, p.product_name, p.price, p.quantity
  FROM carts c
  CROSS JOIN (VALUES ('sku-espresso', 'Espresso beans 1kg', 24.90, 1),
                     ('sku-grinder', 'Burr grinder', 129.00, 1),
                     ('sku-filter', 'Paper filters (100)', 4.50, 3)) AS p(product_id, product_name, price, quantity)
 WHERE c.customer_id LIKE 'demo-customer-%'
ON CONFLICT (cart_id, product_id) DO NOTHING`,
	`INSERT INTO orders (customer_id, total_amount, status)
SELECT 'demo-customer-' || n, 33.90, s.status
  FROM generate_series(1, 5) AS n
  CROSS JOIN (VALUES ('delivered'), ('pending')) AS s(status)
 WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = 'demo-customer-' || n)`,
	`INSERT INTO order_items (order_id, product_id, product_name, price, quantity)
SELECT o.id, 'sku-espresso', 'Espresso beans 1kg', 24.90, 1 FROM orders o
 WHERE o.customer_id LIKE 'demo-customer-%'
   AND NOT EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = o.id)
UNION ALL
SELECT o.id, 'sku-filter', 'Paper filters (100)', 4.50, 2 FROM orders o
 WHERE o.customer_id LIKE 'demo-customer-%'
   AND NOT EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = o.id)`,
}

// Demo loads the demo dataset in one transaction.
func Demo(ctx context.Context, conn *pgx.Conn) (Result, error) {
	var counts [4]int64
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		for i, q := range demoSQL {
			tag, err := tx.Exec(ctx, q)
			if err != nil {
				return fmt.Errorf("seed demo data (statement %d): %w", i+1, err)
			}
			counts[i] = tag.RowsAffected()
		}
		return nil
	})
	return Result{Carts: counts[0], CartItems: counts[1], Orders: counts[2], OrderItems: counts[3]}, err
}
