-- migrator:post-deploy
-- Contract, after the release that stopped using the column: reported, not failed.
ALTER TABLE carts DROP COLUMN IF EXISTS updated_at;
