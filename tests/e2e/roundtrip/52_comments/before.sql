CREATE TABLE users (id int PRIMARY KEY, email text, age int);
COMMENT ON COLUMN users.age IS 'years';
CREATE VIEW adults AS SELECT id, age FROM users WHERE age >= 18;
COMMENT ON VIEW adults IS 'of age';
CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql AS 'SELECT a';
COMMENT ON FUNCTION f(int) IS 'identity';
CREATE TYPE mood AS ENUM ('sad', 'ok');
CREATE SEQUENCE tickets;
COMMENT ON SEQUENCE tickets IS 'old';
