-- An index none of the application's statements uses can go (they find cart items by cart and
-- by cart and product, through the unique index).
DROP INDEX IF EXISTS idx_cart_items_product_id;
