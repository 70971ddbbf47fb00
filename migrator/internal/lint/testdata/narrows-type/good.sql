-- The new limit as a CHECK, added NOT VALID (a catalog change) and validated outside that
-- transaction: the column's type, and so what the running version's prepared statements
-- return, stays as it is.
-- migrator:no-transaction
ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_customer_id_short;
ALTER TABLE orders ADD CONSTRAINT orders_customer_id_short CHECK (length(customer_id) <= 50) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_short;
