-- a composite type loses an attribute, another retypes one, while views read them: the views go first, the
-- types change, the views come back
CREATE TYPE addr AS (street text, city text);
CREATE TYPE pt AS (x int, y int);
CREATE TABLE people (id int PRIMARY KEY, home addr);
CREATE VIEW cities AS SELECT id, (home).city FROM people;
CREATE VIEW xs AS SELECT id, (ROW(id, 2)::pt).x FROM people;
INSERT INTO people VALUES (1, ROW('Main St', 'Paris'));
