-- The ALTER's ACCESS EXCLUSIVE lock is held until the transaction ends, through the slow
-- statement after it (here a stand-in: a two-second sleep).
ALTER TABLE orders ADD COLUMN IF NOT EXISTS note text;
SELECT pg_sleep(2);
