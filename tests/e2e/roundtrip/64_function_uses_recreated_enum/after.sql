-- an enum loses a value (created again): functions taking or returning it go first and come back
CREATE TYPE mood AS ENUM ('ok', 'happy');
CREATE TABLE t (id int PRIMARY KEY, m mood DEFAULT 'ok');
CREATE FUNCTION is_happy(x mood) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$SELECT x = 'happy'$$;
CREATE FUNCTION pick() RETURNS mood LANGUAGE plpgsql AS $$BEGIN RETURN 'ok'; END$$;
CREATE VIEW happy AS SELECT id FROM t WHERE is_happy(m);
-- a new table whose default calls a function made again: it exists before the table
CREATE TABLE later (id int PRIMARY KEY, m mood DEFAULT pick());
