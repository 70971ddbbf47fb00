-- 0005_query_indexes: indexes for the queries the cart services run, and none they do not.
--   cart by customer         -> carts_customer_id_key (the UNIQUE constraint's index)
--   items of a cart          -> cart_items_cart_id_product_id_key (UNIQUE, cart_id leads)
--   a customer's orders, newest first -> idx_orders_customer_id_created_at (new)
--   items of an order        -> idx_order_items_order_id (kept)
--   open orders by status    -> idx_orders_open_status (new, partial: only pending and
--                               processing rows, a small slice of a low-cardinality column)
-- Dropped: idx_carts_customer_id and idx_cart_items_cart_id duplicate the UNIQUE indexes;
-- idx_orders_customer_id is a prefix of the new composite index; idx_orders_status indexes
-- every delivered and cancelled order, which no query looks up by status.
-- Every build and drop is CONCURRENTLY, so reads and writes go on; an interrupted build leaves
-- an INVALID index that the migrator drops before it runs this file again.
-- Locks: SHARE UPDATE EXCLUSIVE on orders, carts and cart_items (does not block DML).
-- migrator:no-transaction

CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_orders_customer_id_created_at
    ON orders (customer_id, created_at DESC);

CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_orders_open_status
    ON orders (status, created_at)
    WHERE status IN ('pending', 'processing');

DROP INDEX CONCURRENTLY IF EXISTS idx_orders_customer_id;
DROP INDEX CONCURRENTLY IF EXISTS idx_orders_status;
DROP INDEX CONCURRENTLY IF EXISTS idx_carts_customer_id;
DROP INDEX CONCURRENTLY IF EXISTS idx_cart_items_cart_id;

-- migrator:down

CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_carts_customer_id ON carts (customer_id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_cart_items_cart_id ON cart_items (cart_id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_orders_customer_id ON orders (customer_id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_orders_status ON orders (status);
DROP INDEX CONCURRENTLY IF EXISTS idx_orders_open_status;
DROP INDEX CONCURRENTLY IF EXISTS idx_orders_customer_id_created_at;
