-- Widening a varchar is a catalog change: no rewrite, and no value can fail it.
ALTER TABLE orders ALTER COLUMN customer_id TYPE varchar(300);
