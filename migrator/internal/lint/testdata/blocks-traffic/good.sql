-- migrator:no-transaction
-- One batch per statement, each committed when it ends: a row is locked only while its batch runs.
UPDATE order_items SET product_name = upper(product_name) WHERE id <= 2500;
UPDATE order_items SET product_name = upper(product_name) WHERE id > 2500;
