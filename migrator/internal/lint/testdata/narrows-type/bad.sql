-- varchar(255) to varchar(50): a longer customer id in production fails the ALTER, and the
-- table is rewritten to check every value.
-- migrator:allow table-rewrite: the case is about the narrowing
ALTER TABLE orders ALTER COLUMN customer_id TYPE varchar(50);
