-- migrator:post-deploy
-- Contract, after the release that stopped using the table: reported, not failed.
DROP TABLE cart_items;
