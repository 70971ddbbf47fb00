-- Widening a varchar changes only the catalog (static linters flag it all the same).
ALTER TABLE orders ALTER COLUMN customer_id TYPE varchar(512);
