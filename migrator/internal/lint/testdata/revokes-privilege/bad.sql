-- The services' role loses SELECT on orders while the running version still reads it.
GRANT SELECT, INSERT ON orders TO PUBLIC;
REVOKE SELECT ON orders FROM PUBLIC;
