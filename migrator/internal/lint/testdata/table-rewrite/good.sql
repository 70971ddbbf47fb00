-- The wider value in a new column beside the old one: a catalog change, no rewrite, and the
-- running version's statements return what they did.
ALTER TABLE order_items ADD COLUMN IF NOT EXISTS quantity_big bigint;
