-- The running version reads and writes total_amount (customer_orders, checkout_order).
ALTER TABLE orders DROP COLUMN total_amount;
