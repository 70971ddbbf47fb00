-- 0003_backfill_nulls: fill the NULLs that the NOT NULL constraints of 0004 would reject, in
-- batches of 5,000 ids, committing after each batch so no row stays locked for long and
-- autovacuum can keep up. A NULL timestamp takes its sibling timestamp, else now();
-- a NULL order status becomes 'pending' (the column's default). Rows with a NULL cart_id or
-- order_id are orphans this file cannot repair: 0004 stops on them and names the constraint.
-- Note: the updated_at trigger stamps now() on every row this file touches (and only those).
-- Last, ANALYZE of the timestamp columns: 0002's ALTER ... TYPE dropped their statistics, and
-- the planner should not meet the new columns blind. It runs here, outside 0002's transaction, so
-- it never extends that file's ACCESS EXCLUSIVE lock.
-- Locks: ROW EXCLUSIVE on each table; row locks on at most one batch at a time; ANALYZE takes
--        SHARE UPDATE EXCLUSIVE (reads and writes go on).
-- migrator:no-transaction

DO $$
DECLARE
    lo bigint;
    hi bigint;
BEGIN
    SELECT min(id), max(id) INTO lo, hi FROM carts;
    WHILE lo <= hi LOOP
        UPDATE carts
           SET created_at = coalesce(created_at, updated_at, now()),
               updated_at = coalesce(updated_at, created_at, now())
         WHERE id >= lo AND id < lo + 5000
           AND (created_at IS NULL OR updated_at IS NULL);
        COMMIT;
        lo := lo + 5000;
    END LOOP;
END
$$;

DO $$
DECLARE
    lo bigint;
    hi bigint;
BEGIN
    SELECT min(id), max(id) INTO lo, hi FROM cart_items;
    WHILE lo <= hi LOOP
        UPDATE cart_items
           SET created_at = coalesce(created_at, updated_at, now()),
               updated_at = coalesce(updated_at, created_at, now())
         WHERE id >= lo AND id < lo + 5000
           AND (created_at IS NULL OR updated_at IS NULL);
        COMMIT;
        lo := lo + 5000;
    END LOOP;
END
$$;

DO $$
DECLARE
    lo bigint;
    hi bigint;
BEGIN
    SELECT min(id), max(id) INTO lo, hi FROM orders;
    WHILE lo <= hi LOOP
        UPDATE orders
           SET created_at = coalesce(created_at, updated_at, now()),
               updated_at = coalesce(updated_at, created_at, now()),
               status = coalesce(status, 'pending')
         WHERE id >= lo AND id < lo + 5000
           AND (created_at IS NULL OR updated_at IS NULL OR status IS NULL);
        COMMIT;
        lo := lo + 5000;
    END LOOP;
END
$$;

DO $$
DECLARE
    lo bigint;
    hi bigint;
BEGIN
    SELECT min(id), max(id) INTO lo, hi FROM order_items;
    WHILE lo <= hi LOOP
        UPDATE order_items
           SET created_at = now()
         WHERE id >= lo AND id < lo + 5000
           AND created_at IS NULL;
        COMMIT;
        lo := lo + 5000;
    END LOOP;
END
$$;

ANALYZE carts (created_at, updated_at), cart_items (created_at, updated_at), orders (created_at, updated_at, status),
    order_items (created_at);

-- migrator:down
-- Nothing to undo: the filled values are valid data and the old schema accepts them.
