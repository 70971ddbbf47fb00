-- migrator:no-transaction
-- NOT VALID is a catalog change; VALIDATE then reads the table under a lock writes pass.
ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_total_amount_below_limit;
ALTER TABLE orders ADD CONSTRAINT orders_total_amount_below_limit CHECK (total_amount < 1000000) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_total_amount_below_limit;
