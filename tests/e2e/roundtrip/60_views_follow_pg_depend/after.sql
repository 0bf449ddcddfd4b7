-- price changes type: the views reading price go and come back (prices, and cheap,
-- which compares price as numeric now, and price_ids, which reads prices); names and the row count do not read it and stay. double_it's
-- parameter is renamed (DROP + CREATE): the view calling it goes and comes back.
CREATE TABLE items (id int PRIMARY KEY, price numeric(10,2), name text);
CREATE MATERIALIZED VIEW item_count AS SELECT count(*) AS n FROM items;
CREATE VIEW names AS SELECT id, name FROM items;
CREATE VIEW prices AS SELECT id, price FROM items;
CREATE VIEW cheap AS SELECT id FROM prices WHERE price < 15;
CREATE VIEW price_ids AS SELECT id FROM prices;
CREATE FUNCTION double_it(b int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT b * 2';
CREATE VIEW doubled AS SELECT id, double_it(id) AS d FROM items;
