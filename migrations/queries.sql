-- The statements the cart services run, as pg_stat_statements shows them (literals as $1, $2, ...):
-- `migrator lint` plans and runs each one before and after every migration, and fails a file after
-- which one of them no longer works (breaks-running-app); `make bench` drives them as its workload.
-- `migrator capture-queries` merges what production runs into this file. The bench's mix: 40% cart
-- lookup, 30% add to cart, 20% order history, 10% checkout (three statements in one transaction);
-- it times update_quantity and open_orders on their own.

-- name: cart_by_customer
SELECT c.id, i.product_id, i.quantity FROM carts c LEFT JOIN cart_items i ON i.cart_id = c.id WHERE c.customer_id = $1;

-- name: upsert_cart_item
INSERT INTO cart_items (cart_id, product_id, product_name, price, quantity) VALUES ($1, $2, 'Product', 9.99, 1) ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = cart_items.quantity + 1;

-- name: update_quantity
UPDATE cart_items SET quantity = $1 WHERE cart_id = $2 AND product_id = $3;

-- name: customer_orders
SELECT id, total_amount, status, created_at FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 10;

-- name: order_items
SELECT product_id, price, quantity FROM order_items WHERE order_id = $1;

-- name: open_orders
SELECT id, customer_id FROM orders WHERE status = 'pending' ORDER BY created_at LIMIT 50;

-- name: checkout_order
INSERT INTO orders (customer_id, total_amount, status) SELECT $1, coalesce(sum(price * quantity), 0), 'pending' FROM cart_items WHERE cart_id = $2 RETURNING id;

-- name: checkout_items
INSERT INTO order_items (order_id, product_id, product_name, price, quantity) SELECT $1, product_id, product_name, price, quantity FROM cart_items WHERE cart_id = $2;

-- name: checkout_empty_cart
DELETE FROM cart_items WHERE cart_id = $1;
