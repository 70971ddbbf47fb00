-- Expand: the new column beside the old one, written by the next release and backfilled.
ALTER TABLE carts ADD COLUMN IF NOT EXISTS modified_at timestamptz;
