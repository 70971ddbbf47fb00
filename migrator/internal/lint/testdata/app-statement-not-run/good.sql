-- The same file, with the finding allowed for a reason lint cannot see.
-- migrator:allow app-statement-not-run: refunds run only in the payments service's own transactions, tested there
ALTER TABLE orders ADD COLUMN IF NOT EXISTS note text;
