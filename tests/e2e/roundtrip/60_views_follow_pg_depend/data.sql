-- the materialized view was not created again (still the 0 rows it saw), the views answer
SELECT n FROM item_count;
SELECT * FROM cheap;
SELECT * FROM doubled ORDER BY id;
