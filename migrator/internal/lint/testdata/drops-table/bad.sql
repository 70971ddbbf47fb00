-- No application statement shows cart_items in use; dropping it before the rollout is still a gamble.
DROP TABLE cart_items;
