-- Expand: the new column beside the old one; the running version does not notice.
ALTER TABLE orders ADD COLUMN IF NOT EXISTS total_cents bigint;
