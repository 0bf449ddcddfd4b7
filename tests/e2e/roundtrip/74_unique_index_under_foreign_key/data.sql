-- the rows stayed, and the foreign keys hold again
SELECT count(*) FROM orders;
SELECT count(*) FROM pg_constraint WHERE conrelid = 'orders'::regclass AND contype = 'f' AND convalidated;
