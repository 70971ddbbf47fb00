-- A volatile default is computed per row: the table is rewritten to store it.
ALTER TABLE orders ADD COLUMN sample_weight double precision DEFAULT random();
