-- The same rewrite as table-rewrite/bad.sql, allowed with a reason.
-- migrator:allow table-rewrite: order_items is rewritten on purpose in a maintenance window
ALTER TABLE order_items ALTER COLUMN quantity TYPE bigint;
