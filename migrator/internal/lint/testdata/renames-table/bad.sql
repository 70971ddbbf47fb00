-- Every statement that names carts fails after this, whether or not queries.sql shows one.
ALTER TABLE carts RENAME TO shopping_carts;
