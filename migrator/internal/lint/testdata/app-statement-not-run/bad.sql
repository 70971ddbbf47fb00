-- Any file: lint cannot run the application's refund statement on the dataset (its CHECK lets no
-- value lint can draw through), so it cannot say what the file does to it.
ALTER TABLE orders ADD COLUMN IF NOT EXISTS note text;
