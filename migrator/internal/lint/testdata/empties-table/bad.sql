-- "Clean up" the carts table: every customer's cart is gone.
TRUNCATE cart_items;
