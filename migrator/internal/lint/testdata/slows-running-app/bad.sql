-- order_items' lookup by order (the order_items statement) loses its index: it still works, on a
-- full scan of the table.
DROP INDEX IF EXISTS idx_order_items_order_id;
