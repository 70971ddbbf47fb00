-- 0004_check_constraints: CHECK constraints on prices, quantities, totals and order status, and
-- NOT NULL on cart_items.cart_id, order_items.order_id, orders.status and every timestamp.
-- Each constraint is added NOT VALID (a catalog change: new and updated rows are checked at
-- once), then validated in its own statement, which scans the table under SHARE UPDATE EXCLUSIVE
-- (reads and writes go on). NOT NULL is set through a validated CHECK (col IS NOT NULL): since
-- PostgreSQL 12, SET NOT NULL then skips its scan, so its ACCESS EXCLUSIVE lock lasts
-- milliseconds. The helper CHECKs are dropped afterwards. Existing rows that break a rule stop
-- this file before it changes anything, with a count per rule; fix those rows and run again.
-- Every statement can be run again: constraints are dropped and re-added, never duplicated.
-- Locks: ACCESS EXCLUSIVE per table for each catalog-only ALTER (waits at most lock_timeout);
--        SHARE UPDATE EXCLUSIVE per table while validating.
-- migrator:no-transaction

-- Pre-check: refuse before changing anything when existing rows break a rule, so that a failed
-- run leaves no half-added constraint behind for live traffic to trip over.
DO $$
DECLARE
    problems text := '';
    n bigint;
BEGIN
    SELECT count(*) INTO n FROM cart_items WHERE price < 0;
    IF n > 0 THEN problems := problems || format(E'\n  cart_items: %s rows with price < 0', n); END IF;
    SELECT count(*) INTO n FROM cart_items WHERE quantity <= 0;
    IF n > 0 THEN problems := problems || format(E'\n  cart_items: %s rows with quantity <= 0', n); END IF;
    SELECT count(*) INTO n FROM cart_items WHERE cart_id IS NULL;
    IF n > 0 THEN problems := problems || format(E'\n  cart_items: %s rows with no cart_id', n); END IF;
    SELECT count(*) INTO n FROM order_items WHERE price < 0;
    IF n > 0 THEN problems := problems || format(E'\n  order_items: %s rows with price < 0', n); END IF;
    SELECT count(*) INTO n FROM order_items WHERE quantity <= 0;
    IF n > 0 THEN problems := problems || format(E'\n  order_items: %s rows with quantity <= 0', n); END IF;
    SELECT count(*) INTO n FROM order_items WHERE order_id IS NULL;
    IF n > 0 THEN problems := problems || format(E'\n  order_items: %s rows with no order_id', n); END IF;
    SELECT count(*) INTO n FROM orders WHERE total_amount < 0;
    IF n > 0 THEN problems := problems || format(E'\n  orders: %s rows with total_amount < 0', n); END IF;
    -- Rows written after 0003 ran (live traffic before this file) may again hold NULLs.
    SELECT count(*) INTO n FROM carts WHERE created_at IS NULL OR updated_at IS NULL;
    IF n > 0 THEN problems := problems || format(E'\n  carts: %s rows with no created_at or updated_at', n); END IF;
    SELECT count(*) INTO n FROM cart_items WHERE created_at IS NULL OR updated_at IS NULL;
    IF n > 0 THEN problems := problems || format(E'\n  cart_items: %s rows with no created_at or updated_at', n); END IF;
    SELECT count(*) INTO n FROM orders WHERE created_at IS NULL OR updated_at IS NULL;
    IF n > 0 THEN problems := problems || format(E'\n  orders: %s rows with no created_at or updated_at', n); END IF;
    SELECT count(*) INTO n FROM orders WHERE status IS NULL;
    IF n > 0 THEN problems := problems || format(E'\n  orders: %s rows with no status', n); END IF;
    SELECT count(*) INTO n FROM order_items WHERE created_at IS NULL;
    IF n > 0 THEN problems := problems || format(E'\n  order_items: %s rows with no created_at', n); END IF;
    SELECT count(*) INTO n FROM orders
     WHERE status NOT IN ('pending', 'processing', 'shipped', 'delivered', 'cancelled');
    IF n > 0 THEN problems := problems || format(E'\n  orders: %s rows with a status outside pending, processing, shipped, delivered, cancelled', n); END IF;
    IF problems <> '' THEN
        RAISE EXCEPTION 'existing rows break the new constraints; nothing was changed:%', problems
            USING HINT = 'Correct or remove those rows (they are listed by rule), then run the migrator again.';
    END IF;
END
$$;

ALTER TABLE carts
    DROP CONSTRAINT IF EXISTS carts_created_at_not_null,
    ADD CONSTRAINT carts_created_at_not_null CHECK (created_at IS NOT NULL) NOT VALID,
    DROP CONSTRAINT IF EXISTS carts_updated_at_not_null,
    ADD CONSTRAINT carts_updated_at_not_null CHECK (updated_at IS NOT NULL) NOT VALID;

ALTER TABLE cart_items
    DROP CONSTRAINT IF EXISTS cart_items_price_nonnegative,
    ADD CONSTRAINT cart_items_price_nonnegative CHECK (price >= 0) NOT VALID,
    DROP CONSTRAINT IF EXISTS cart_items_quantity_positive,
    ADD CONSTRAINT cart_items_quantity_positive CHECK (quantity > 0) NOT VALID,
    DROP CONSTRAINT IF EXISTS cart_items_cart_id_not_null,
    ADD CONSTRAINT cart_items_cart_id_not_null CHECK (cart_id IS NOT NULL) NOT VALID,
    DROP CONSTRAINT IF EXISTS cart_items_created_at_not_null,
    ADD CONSTRAINT cart_items_created_at_not_null CHECK (created_at IS NOT NULL) NOT VALID,
    DROP CONSTRAINT IF EXISTS cart_items_updated_at_not_null,
    ADD CONSTRAINT cart_items_updated_at_not_null CHECK (updated_at IS NOT NULL) NOT VALID;

ALTER TABLE orders
    DROP CONSTRAINT IF EXISTS orders_total_amount_nonnegative,
    ADD CONSTRAINT orders_total_amount_nonnegative CHECK (total_amount >= 0) NOT VALID,
    DROP CONSTRAINT IF EXISTS orders_status_valid,
    ADD CONSTRAINT orders_status_valid
        CHECK (status IN ('pending', 'processing', 'shipped', 'delivered', 'cancelled')) NOT VALID,
    DROP CONSTRAINT IF EXISTS orders_status_not_null,
    ADD CONSTRAINT orders_status_not_null CHECK (status IS NOT NULL) NOT VALID,
    DROP CONSTRAINT IF EXISTS orders_created_at_not_null,
    ADD CONSTRAINT orders_created_at_not_null CHECK (created_at IS NOT NULL) NOT VALID,
    DROP CONSTRAINT IF EXISTS orders_updated_at_not_null,
    ADD CONSTRAINT orders_updated_at_not_null CHECK (updated_at IS NOT NULL) NOT VALID,
    ALTER COLUMN status SET DEFAULT 'pending';

ALTER TABLE order_items
    DROP CONSTRAINT IF EXISTS order_items_price_nonnegative,
    ADD CONSTRAINT order_items_price_nonnegative CHECK (price >= 0) NOT VALID,
    DROP CONSTRAINT IF EXISTS order_items_quantity_positive,
    ADD CONSTRAINT order_items_quantity_positive CHECK (quantity > 0) NOT VALID,
    DROP CONSTRAINT IF EXISTS order_items_order_id_not_null,
    ADD CONSTRAINT order_items_order_id_not_null CHECK (order_id IS NOT NULL) NOT VALID,
    DROP CONSTRAINT IF EXISTS order_items_created_at_not_null,
    ADD CONSTRAINT order_items_created_at_not_null CHECK (created_at IS NOT NULL) NOT VALID;

ALTER TABLE carts VALIDATE CONSTRAINT carts_created_at_not_null;
ALTER TABLE carts VALIDATE CONSTRAINT carts_updated_at_not_null;
ALTER TABLE cart_items VALIDATE CONSTRAINT cart_items_price_nonnegative;
ALTER TABLE cart_items VALIDATE CONSTRAINT cart_items_quantity_positive;
ALTER TABLE cart_items VALIDATE CONSTRAINT cart_items_cart_id_not_null;
ALTER TABLE cart_items VALIDATE CONSTRAINT cart_items_created_at_not_null;
ALTER TABLE cart_items VALIDATE CONSTRAINT cart_items_updated_at_not_null;
ALTER TABLE orders VALIDATE CONSTRAINT orders_total_amount_nonnegative;
ALTER TABLE orders VALIDATE CONSTRAINT orders_status_valid;
ALTER TABLE orders VALIDATE CONSTRAINT orders_status_not_null;
ALTER TABLE orders VALIDATE CONSTRAINT orders_created_at_not_null;
ALTER TABLE orders VALIDATE CONSTRAINT orders_updated_at_not_null;
ALTER TABLE order_items VALIDATE CONSTRAINT order_items_price_nonnegative;
ALTER TABLE order_items VALIDATE CONSTRAINT order_items_quantity_positive;
ALTER TABLE order_items VALIDATE CONSTRAINT order_items_order_id_not_null;
ALTER TABLE order_items VALIDATE CONSTRAINT order_items_created_at_not_null;

-- SET NOT NULL in a statement of its own, while the validated CHECK still exists to prove it.
ALTER TABLE carts
    ALTER COLUMN created_at SET NOT NULL,
    ALTER COLUMN updated_at SET NOT NULL;
ALTER TABLE cart_items
    ALTER COLUMN cart_id SET NOT NULL,
    ALTER COLUMN created_at SET NOT NULL,
    ALTER COLUMN updated_at SET NOT NULL;
ALTER TABLE orders
    ALTER COLUMN status SET NOT NULL,
    ALTER COLUMN created_at SET NOT NULL,
    ALTER COLUMN updated_at SET NOT NULL;
ALTER TABLE order_items
    ALTER COLUMN order_id SET NOT NULL,
    ALTER COLUMN created_at SET NOT NULL;

ALTER TABLE carts
    DROP CONSTRAINT IF EXISTS carts_created_at_not_null,
    DROP CONSTRAINT IF EXISTS carts_updated_at_not_null;
ALTER TABLE cart_items
    DROP CONSTRAINT IF EXISTS cart_items_cart_id_not_null,
    DROP CONSTRAINT IF EXISTS cart_items_created_at_not_null,
    DROP CONSTRAINT IF EXISTS cart_items_updated_at_not_null;
ALTER TABLE orders
    DROP CONSTRAINT IF EXISTS orders_status_not_null,
    DROP CONSTRAINT IF EXISTS orders_created_at_not_null,
    DROP CONSTRAINT IF EXISTS orders_updated_at_not_null;
ALTER TABLE order_items
    DROP CONSTRAINT IF EXISTS order_items_order_id_not_null,
    DROP CONSTRAINT IF EXISTS order_items_created_at_not_null;

-- migrator:down
-- Back to the baseline's rules: no CHECKs, these columns nullable again. Catalog-only.

ALTER TABLE carts
    ALTER COLUMN created_at DROP NOT NULL,
    ALTER COLUMN updated_at DROP NOT NULL;
ALTER TABLE cart_items
    DROP CONSTRAINT IF EXISTS cart_items_price_nonnegative,
    DROP CONSTRAINT IF EXISTS cart_items_quantity_positive,
    ALTER COLUMN cart_id DROP NOT NULL,
    ALTER COLUMN created_at DROP NOT NULL,
    ALTER COLUMN updated_at DROP NOT NULL;
ALTER TABLE orders
    DROP CONSTRAINT IF EXISTS orders_total_amount_nonnegative,
    DROP CONSTRAINT IF EXISTS orders_status_valid,
    ALTER COLUMN status DROP NOT NULL,
    ALTER COLUMN created_at DROP NOT NULL,
    ALTER COLUMN updated_at DROP NOT NULL;
ALTER TABLE order_items
    DROP CONSTRAINT IF EXISTS order_items_price_nonnegative,
    DROP CONSTRAINT IF EXISTS order_items_quantity_positive,
    ALTER COLUMN order_id DROP NOT NULL,
    ALTER COLUMN created_at DROP NOT NULL;
