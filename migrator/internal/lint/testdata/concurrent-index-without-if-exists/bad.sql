-- migrator:no-transaction
-- An interrupted build leaves the index behind (INVALID); the rerun then fails on the name.
CREATE INDEX CONCURRENTLY idx_orders_status_created_at ON orders (status, created_at);
