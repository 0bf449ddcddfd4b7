-- the functions work over the new view
SELECT big_count(), (SELECT doubled(b) FROM big_orders b);
