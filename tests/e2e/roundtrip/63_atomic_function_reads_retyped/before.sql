-- a SQL-standard body (BEGIN ATOMIC) reads u.id: PostgreSQL refuses u.id's type change under it
CREATE TABLE u (id int PRIMARY KEY, name text);
CREATE FUNCTION first_id() RETURNS bigint LANGUAGE sql STABLE BEGIN ATOMIC SELECT u.id FROM u ORDER BY u.id LIMIT 1; END;
COMMENT ON FUNCTION first_id() IS 'the smallest id';
CREATE VIEW first_view AS SELECT first_id() AS f;
CREATE FUNCTION plain() RETURNS int LANGUAGE sql AS 'SELECT 1';
INSERT INTO u VALUES (3, 'c'), (2, 'b');
