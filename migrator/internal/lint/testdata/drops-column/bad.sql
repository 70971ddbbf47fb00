-- None of the application's statements names carts.updated_at; something else may.
ALTER TABLE carts DROP COLUMN updated_at;
