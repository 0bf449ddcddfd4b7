CREATE TABLE items (id int PRIMARY KEY, price int, name text);
CREATE MATERIALIZED VIEW item_count AS SELECT count(*) AS n FROM items;
CREATE VIEW names AS SELECT id, name FROM items;
CREATE VIEW prices AS SELECT id, price FROM items;
CREATE VIEW cheap AS SELECT id FROM prices WHERE price < 15;
CREATE VIEW price_ids AS SELECT id FROM prices;
CREATE FUNCTION double_it(a int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT a * 2';
CREATE VIEW doubled AS SELECT id, double_it(id) AS d FROM items;
-- after the materialized view: it still says 0 rows unless it is created again
INSERT INTO items VALUES (1, 10, 'a'), (2, 20, 'b');
