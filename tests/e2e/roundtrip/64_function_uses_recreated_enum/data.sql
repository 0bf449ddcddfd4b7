-- the view and the functions work on the new type
SELECT * FROM happy;
SELECT pick();
