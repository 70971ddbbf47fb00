-- A backfill of every row in one statement, then more work in the same transaction (here a
-- stand-in: a 1.5 s sleep): the rows stay locked until the commit, and the application's
-- writes of them wait that long.
UPDATE order_items SET product_name = upper(product_name);
SELECT pg_sleep(1.5);
