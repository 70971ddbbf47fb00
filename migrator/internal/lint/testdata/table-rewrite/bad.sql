-- integer to bigint copies the whole table under ACCESS EXCLUSIVE.
ALTER TABLE order_items ALTER COLUMN quantity TYPE bigint;
