CREATE TYPE mood AS ENUM ('happy','sad');
CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL, bio text, age int, m mood DEFAULT 'happy', name varchar(20));
CREATE TABLE posts (id bigint PRIMARY KEY, user_id int, title varchar(20));
CREATE INDEX posts_title_idx ON posts (lower(title));
CREATE VIEW v AS SELECT id, email, age FROM users WHERE id > 1;
CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql AS $$ select a+1 $$;
CREATE TABLE gone (id int);
