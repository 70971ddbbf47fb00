-- None of the application's statements names carts.updated_at, but the running version may.
ALTER TABLE carts RENAME COLUMN updated_at TO modified_at;
