-- migrator:no-transaction
-- With a validated CHECK (channel IS NOT NULL), SET NOT NULL trusts it and skips the scan.
ALTER TABLE orders ADD COLUMN IF NOT EXISTS channel text DEFAULT 'web';
ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_channel_not_null;
ALTER TABLE orders ADD CONSTRAINT orders_channel_not_null CHECK (channel IS NOT NULL) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_channel_not_null;
ALTER TABLE orders ALTER COLUMN channel SET NOT NULL;
