-- a composite type loses an attribute, another retypes one, while views read them: the views go first, the
-- types change, the views come back
CREATE TYPE addr AS (street text);
CREATE TYPE pt AS (x bigint, y int);
CREATE TABLE people (id int PRIMARY KEY, home addr);
CREATE VIEW cities AS SELECT id, (home).street FROM people;
CREATE VIEW xs AS SELECT id, (ROW(id, 2)::pt).x FROM people;
