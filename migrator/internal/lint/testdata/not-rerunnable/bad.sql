-- migrator:no-transaction
-- Fails on a second run: the column is already there.
ALTER TABLE orders ADD COLUMN channel text;
