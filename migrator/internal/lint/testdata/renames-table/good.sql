-- migrator:post-deploy
-- After the release that uses the new name (through a view made earlier): reported, not failed.
ALTER TABLE carts RENAME TO shopping_carts;
