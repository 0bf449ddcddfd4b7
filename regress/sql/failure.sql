-- A failing statement: the error names the file, the statement and its line,
-- keeps PostgreSQL's message and SQLSTATE, and nothing of the run remains.
CREATE DATABASE dbkit_failure;
\c dbkit_failure
CREATE EXTENSION dbkit;
\set VERBOSITY default
\i regress/sql/mkfolder.inc

-- 0001 fails at its third statement (line 5); 0000 ran first in the same call
SELECT * FROM dbkit_apply(mkfolder(
  '0000_users', 'CREATE TABLE users (id int PRIMARY KEY);',
  '0001_posts', E'CREATE TABLE posts (id int);\n--> statement-breakpoint\nALTER TABLE posts ADD COLUMN user_id int;\n' ||
                E'--> statement-breakpoint\nALTER TABLE posts ADD CONSTRAINT fk FOREIGN KEY (author_id) REFERENCES users (id);'));
SELECT to_regclass('users') IS NULL AS users_rolled_back, to_regclass('posts') IS NULL AS posts_rolled_back,
       (SELECT count(*) FROM dbkit.migrations) AS history_rows,
       to_regclass('drizzle.__drizzle_migrations') IS NULL AS no_drizzle_table;

-- an execution error without a position (unique violation) in a multi-statement chunk
SELECT * FROM dbkit_apply(mkfolder(
  '0000_users', E'CREATE TABLE users (id int PRIMARY KEY);\nINSERT INTO users VALUES (1);\n\n-- again\nINSERT INTO users VALUES (1);'));
SELECT 'session still usable' AS ok;

-- a syntax error is found before anything runs, with its line in the file
SELECT * FROM dbkit_apply(mkfolder(
  '0000_users', 'CREATE TABLE users (id int PRIMARY KEY);',
  '0001_posts', E'CREATE TABLE posts (id int);\n--> statement-breakpoint\nALTER TABLE posts\n  ADD COLUMN title tetx NOT NUL;'));
SELECT to_regclass('users') IS NULL AS users_not_created;

-- an error raised inside a function the migration calls keeps its context
SELECT * FROM dbkit_apply(mkfolder(
  '0000_users', E'DO $$ BEGIN RAISE EXCEPTION ''custom failure'' USING HINT = ''from the DO block''; END $$;'));

-- the fixed file applies on rerun
SELECT tag, action, statements FROM dbkit_apply(mkfolder(
  '0000_users', 'CREATE TABLE users (id int PRIMARY KEY);',
  '0001_posts', E'CREATE TABLE posts (id int);\n--> statement-breakpoint\nALTER TABLE posts ADD COLUMN user_id int;\n' ||
                E'--> statement-breakpoint\nALTER TABLE posts ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id);'));
SELECT tag, statements FROM dbkit_status();

-- the SQLSTATE of the failing statement is the error's own (printed with \echo, not
-- VERBOSITY verbose, whose LOCATION line names a PostgreSQL source line)
SELECT * FROM dbkit_apply(mkfolder(
  '0000_users', 'CREATE TABLE users (id int PRIMARY KEY);',
  '0001_posts', E'CREATE TABLE posts (id int);\n--> statement-breakpoint\nALTER TABLE posts ADD COLUMN user_id int;\n' ||
                E'--> statement-breakpoint\nALTER TABLE posts ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id);',
  '0002_boom', 'SELECT 1/0;'));
\echo sqlstate :LAST_ERROR_SQLSTATE
SELECT 'session still usable' AS ok;
