-- migrator:no-transaction
-- SET NOT NULL without a validated CHECK reads every row under ACCESS EXCLUSIVE.
ALTER TABLE orders ADD COLUMN IF NOT EXISTS channel text DEFAULT 'web';
ALTER TABLE orders ALTER COLUMN channel SET NOT NULL;
