-- name: refund
UPDATE orders SET total_amount = -1 * $1 WHERE id = $2;
