-- tables moved to another schema (--rename public.posts=blog.posts): ALTER TABLE ... SET SCHEMA keeps
-- the rows and the counters; a move and a new name together; a shared sequence that stays behind
CREATE SEQUENCE global_id;
CREATE TABLE users (id serial PRIMARY KEY, name text);
CREATE TABLE posts (id serial PRIMARY KEY, title text NOT NULL, uid int REFERENCES users (id) ON DELETE CASCADE,
	CONSTRAINT title_len CHECK (length(title) < 200));
CREATE INDEX posts_title_idx ON posts (title);
CREATE VIEW recent AS SELECT id, title FROM posts;
COMMENT ON TABLE posts IS 'the posts';
CREATE TABLE tags (id serial PRIMARY KEY, label text);
CREATE TABLE notes (id bigint DEFAULT nextval('global_id') PRIMARY KEY, body text);
ALTER SEQUENCE global_id OWNED BY notes.id;
CREATE TABLE other_notes (id bigint DEFAULT nextval('global_id') PRIMARY KEY);
INSERT INTO users (name) VALUES ('u');
INSERT INTO posts (title, uid) VALUES ('a', 1), ('b', 1);
INSERT INTO tags (label) VALUES ('x'), ('y');
INSERT INTO notes (body) VALUES ('n1'), ('n2');
-- functions over the moved table: its row type in a signature, a SQL-standard body reading it
CREATE FUNCTION post_title(p posts) RETURNS text LANGUAGE sql AS 'SELECT p.title';
CREATE FUNCTION post_count() RETURNS bigint LANGUAGE sql BEGIN ATOMIC SELECT count(*) FROM posts; END;
