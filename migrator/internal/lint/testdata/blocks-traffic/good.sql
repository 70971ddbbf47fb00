-- migrator:no-transaction
-- The backfill in batches of 1,000 rows, each committed when it ends: a row is locked only while
-- its batch runs, however many rows the table has.
DO $$
DECLARE
    lo bigint := 0;
    hi bigint;
BEGIN
    SELECT max(id) INTO hi FROM order_items;
    WHILE lo <= hi LOOP
        UPDATE order_items SET product_name = upper(product_name) WHERE id > lo AND id <= lo + 1000;
        COMMIT;
        lo := lo + 1000;
    END LOOP;
END
$$;
