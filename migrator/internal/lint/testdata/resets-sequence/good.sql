-- Moving a sequence forward, past the largest id, never collides.
SELECT setval('orders_id_seq', (SELECT max(id) FROM orders) + 1000);
