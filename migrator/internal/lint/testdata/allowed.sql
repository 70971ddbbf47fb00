-- The same rewrite as table-rewrite/bad.sql, allowed with a reason: in a maintenance window the
-- table may stand still, and the services are stopped (their prepared statements with them).
-- migrator:allow table-rewrite: order_items is rewritten on purpose in a maintenance window
-- migrator:allow long-blocking-lock: the maintenance window stops the services
-- migrator:allow blocks-traffic: the maintenance window stops the services
-- migrator:allow breaks-running-app: the services start again after the window, preparing anew
ALTER TABLE order_items ALTER COLUMN quantity TYPE bigint;
