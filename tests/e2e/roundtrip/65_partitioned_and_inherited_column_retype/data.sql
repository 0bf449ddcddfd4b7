-- the partition's row kept, read through the view made again
SELECT v, s FROM ev_view;
SELECT pg_typeof(v)::text FROM ev_2026;
