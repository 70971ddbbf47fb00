-- A plain CREATE INDEX on a populated table: every write waits until the build ends.
CREATE INDEX IF NOT EXISTS idx_orders_total_amount ON orders (total_amount);
