-- A constant default is stored once in the catalog: no rewrite.
ALTER TABLE orders ADD COLUMN note text DEFAULT 'none';
