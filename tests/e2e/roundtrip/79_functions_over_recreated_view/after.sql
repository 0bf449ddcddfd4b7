-- a view created again (its columns change, or a column it reads changes type) while functions name it: a
-- SQL-standard body reading it, a signature taking its row type; they go first and come back after it
CREATE TABLE orders (id int PRIMARY KEY, amount bigint);
CREATE VIEW big_orders AS SELECT id, amount FROM orders WHERE amount > 100;
CREATE FUNCTION big_count() RETURNS bigint LANGUAGE sql BEGIN ATOMIC SELECT count(*) FROM big_orders; END;
CREATE FUNCTION doubled(o big_orders) RETURNS bigint LANGUAGE sql AS 'SELECT o.amount * 2';
COMMENT ON FUNCTION big_count() IS 'orders over 100';
