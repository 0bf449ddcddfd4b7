-- the row kept its other attributes
SELECT (home).street FROM people;
