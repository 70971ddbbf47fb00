-- migrator:no-transaction
ALTER TABLE orders ADD COLUMN IF NOT EXISTS channel text;
