-- tables moved to another schema (--rename public.posts=blog.posts): ALTER TABLE ... SET SCHEMA keeps
-- the rows and the counters; a move and a new name together; a shared sequence that stays behind
CREATE SCHEMA blog;
CREATE SEQUENCE global_id;
CREATE TABLE users (id serial PRIMARY KEY, name text);
CREATE TABLE blog.posts (id serial PRIMARY KEY, title text NOT NULL, uid int REFERENCES users (id) ON DELETE CASCADE,
	CONSTRAINT title_len CHECK (length(title) < 200));
CREATE INDEX posts_title_idx ON blog.posts (title);
CREATE VIEW recent AS SELECT id, title FROM blog.posts;
COMMENT ON TABLE blog.posts IS 'the posts';
CREATE TABLE blog.labels (id serial PRIMARY KEY, label text);
CREATE TABLE blog.notes (id bigint DEFAULT nextval('global_id') PRIMARY KEY, body text);
CREATE TABLE other_notes (id bigint DEFAULT nextval('global_id') PRIMARY KEY);
-- functions over the moved table: its row type in a signature, a SQL-standard body reading it
CREATE FUNCTION post_title(p blog.posts) RETURNS text LANGUAGE sql AS 'SELECT p.title';
CREATE FUNCTION post_count() RETURNS bigint LANGUAGE sql BEGIN ATOMIC SELECT count(*) FROM blog.posts; END;
