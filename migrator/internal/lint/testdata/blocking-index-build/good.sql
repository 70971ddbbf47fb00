-- migrator:no-transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_orders_total_amount ON orders (total_amount);
