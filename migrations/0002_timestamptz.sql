-- 0002_timestamptz: created_at and updated_at become timestamptz, defaulting to now().
-- Why no rewrite: since PostgreSQL 12, timestamp -> timestamptz is catalog-only when the session
-- time zone is UTC (the migrator's sessions always are; RDS stores UTC). Existing values are
-- read as UTC, which is what the legacy script's CURRENT_TIMESTAMP wrote on RDS.
-- Outside a transaction so that each table's lock is held only for its own ALTER.
-- Locks: ACCESS EXCLUSIVE on each table in turn, for milliseconds; waits at most lock_timeout.
-- migrator:no-transaction

SET timezone TO 'UTC';

ALTER TABLE carts
    ALTER COLUMN created_at TYPE timestamptz,
    ALTER COLUMN created_at SET DEFAULT now(),
    ALTER COLUMN updated_at TYPE timestamptz,
    ALTER COLUMN updated_at SET DEFAULT now();

ALTER TABLE cart_items
    ALTER COLUMN created_at TYPE timestamptz,
    ALTER COLUMN created_at SET DEFAULT now(),
    ALTER COLUMN updated_at TYPE timestamptz,
    ALTER COLUMN updated_at SET DEFAULT now();

-- migrator:allow breaks-running-app: applied everywhere with the release that reads timestamptz, whose pods prepared their statements anew; recorded when lint began executing statements kept prepared (an allow line leaves the checksum as it was)
ALTER TABLE orders
    ALTER COLUMN created_at TYPE timestamptz,
    ALTER COLUMN created_at SET DEFAULT now(),
    ALTER COLUMN updated_at TYPE timestamptz,
    ALTER COLUMN updated_at SET DEFAULT now();

ALTER TABLE order_items
    ALTER COLUMN created_at TYPE timestamptz,
    ALTER COLUMN created_at SET DEFAULT now();

-- migrator:down
-- Back to timestamp without time zone; also catalog-only under UTC.

SET timezone TO 'UTC';

ALTER TABLE carts
    ALTER COLUMN created_at TYPE timestamp,
    ALTER COLUMN created_at SET DEFAULT CURRENT_TIMESTAMP,
    ALTER COLUMN updated_at TYPE timestamp,
    ALTER COLUMN updated_at SET DEFAULT CURRENT_TIMESTAMP;

ALTER TABLE cart_items
    ALTER COLUMN created_at TYPE timestamp,
    ALTER COLUMN created_at SET DEFAULT CURRENT_TIMESTAMP,
    ALTER COLUMN updated_at TYPE timestamp,
    ALTER COLUMN updated_at SET DEFAULT CURRENT_TIMESTAMP;

ALTER TABLE orders
    ALTER COLUMN created_at TYPE timestamp,
    ALTER COLUMN created_at SET DEFAULT CURRENT_TIMESTAMP,
    ALTER COLUMN updated_at TYPE timestamp,
    ALTER COLUMN updated_at SET DEFAULT CURRENT_TIMESTAMP;

ALTER TABLE order_items
    ALTER COLUMN created_at TYPE timestamp,
    ALTER COLUMN created_at SET DEFAULT CURRENT_TIMESTAMP;
