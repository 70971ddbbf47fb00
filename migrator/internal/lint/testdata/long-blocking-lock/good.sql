-- migrator:no-transaction
-- Outside a transaction the lock ends with the ALTER; the slow statement holds nothing.
ALTER TABLE orders ADD COLUMN IF NOT EXISTS note text;
SELECT pg_sleep(1.2);
