-- The identity sequences' options (the rows kept; a changed START WITH does not restart the sequence)
SELECT sequencename, start_value, increment_by, min_value, max_value, cache_size, cycle, last_value
  FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1;
SELECT id, name FROM items;
