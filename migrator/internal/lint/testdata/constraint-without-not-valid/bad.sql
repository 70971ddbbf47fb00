-- A validated CHECK reads the whole table while holding a lock that blocks writes.
ALTER TABLE orders ADD CONSTRAINT orders_total_amount_below_limit CHECK (total_amount < 1000000);
