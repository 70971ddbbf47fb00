-- The application as lint sees it here: nothing of it uses cart_items.
-- name: open_orders
SELECT id, customer_id FROM orders WHERE status = 'pending' ORDER BY created_at LIMIT 50;
