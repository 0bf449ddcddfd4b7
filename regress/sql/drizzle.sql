-- Coexisting with drizzle's own table: adopt what drizzle applied, keep its
-- table in step in whichever shape it has, report rows that match nothing.
CREATE DATABASE dbkit_drizzle;
\c dbkit_drizzle
CREATE EXTENSION dbkit;
\set VERBOSITY default
\i regress/sql/mkfolder.inc

CREATE FUNCTION h(t text) RETURNS text LANGUAGE sql AS $$ SELECT encode(sha256(convert_to(t, 'UTF8')), 'hex') $$;

-- drizzle's migrator applied 0000 and 0001 (as it records them: hash + when)
CREATE SCHEMA drizzle;
CREATE TABLE drizzle.__drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint);
CREATE TABLE a (id int);
CREATE TABLE b (id int);
INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES
  (h('CREATE TABLE a (id int);'), 1795644700000), (h('CREATE TABLE b (id int);'), 1795644700001);

SELECT idx, tag, state, note FROM dbkit_status(mkfolder('0000_a', 'CREATE TABLE a (id int);',
  '0001_b', 'CREATE TABLE b (id int);', '0002_c', 'CREATE TABLE c (id int);'));
SELECT idx, tag, action, statements, note FROM dbkit_apply(mkfolder('0000_a', 'CREATE TABLE a (id int);',
  '0001_b', 'CREATE TABLE b (id int);', '0002_c', 'CREATE TABLE c (id int);'));
SELECT tag, how, statements FROM dbkit_status();
-- drizzle's table: still its two rows, plus the one dbkit applied; drizzle's max(created_at) covers all
SELECT id, created_at FROM drizzle.__drizzle_migrations ORDER BY id;

-- drizzle applied 0003 with content that differs from the file now: modified, refused
INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES (h('CREATE TABLE d (id bigint);'), 1795644700003);
SELECT * FROM dbkit_apply(mkfolder('0000_a', 'CREATE TABLE a (id int);',
  '0001_b', 'CREATE TABLE b (id int);', '0002_c', 'CREATE TABLE c (id int);', '0003_d', 'CREATE TABLE d (id int);'));
DELETE FROM drizzle.__drizzle_migrations WHERE created_at = 1795644700003;

-- a row that matches no migration of the folder: reported, never guessed
INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ('0123456789abcdef', 1000);
SELECT idx, tag, action FROM dbkit_apply(mkfolder('0000_a', 'CREATE TABLE a (id int);',
  '0001_b', 'CREATE TABLE b (id int);', '0002_c', 'CREATE TABLE c (id int);'));

-- drizzle 1.0's shape (name, applied_at) is kept: dbkit fills name
CREATE SCHEMA d1;
CREATE TABLE d1.migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint, name text,
                            applied_at timestamptz DEFAULT now());
SELECT idx, tag, action FROM dbkit_apply(mkfolder('0000_a', 'CREATE TABLE a (id int);',
  '0001_b', 'CREATE TABLE b (id int);', '0002_c', 'CREATE TABLE c (id int);', '0004_e', 'CREATE TABLE e (id int);'),
  '{"drizzle_schema": "d1", "drizzle_table": "migrations"}');
SELECT name, created_at, applied_at IS NOT NULL AS has_applied_at FROM d1.migrations ORDER BY id;

-- drizzle_sync off: drizzle's table is neither read nor written
SELECT idx, tag, action FROM dbkit_apply(mkfolder('0000_a', 'CREATE TABLE a (id int);',
  '0001_b', 'CREATE TABLE b (id int);', '0002_c', 'CREATE TABLE c (id int);', '0004_e', 'CREATE TABLE e (id int);',
  '0005_f', 'CREATE TABLE f (id int);'), '{"drizzle_sync": false}') WHERE action <> 'already_applied';
SELECT count(*) AS drizzle_rows_unchanged FROM drizzle.__drizzle_migrations;

-- the next run with sync on fills in what drizzle's table lacks (0004 and 0005)
SELECT count(*) FROM dbkit_apply(mkfolder('0000_a', 'CREATE TABLE a (id int);',
  '0001_b', 'CREATE TABLE b (id int);', '0002_c', 'CREATE TABLE c (id int);', '0004_e', 'CREATE TABLE e (id int);',
  '0005_f', 'CREATE TABLE f (id int);'));
SELECT created_at FROM drizzle.__drizzle_migrations ORDER BY id;

-- issue 17 item 3: a configured drizzle table that is absent while another
-- table with drizzle's shape records the folder's migrations is refused (DK017),
-- naming that table and the options that point at it
SELECT count(*) FROM dbkit_apply(mkfolder('0000_a', 'CREATE TABLE a (id int);',
  '0001_b', 'CREATE TABLE b (id int);', '0002_c', 'CREATE TABLE c (id int);', '0004_e', 'CREATE TABLE e (id int);',
  '0005_f', 'CREATE TABLE f (id int);'), '{"drizzle_schema": "x\"; DROP TABLE a; --", "drizzle_table": "t''s"}');
DROP SCHEMA d1 CASCADE;
DROP TABLE drizzle.__drizzle_migrations;

-- names with quotes are identifiers, never SQL: the odd schema and table are created as named
SELECT count(*) FROM dbkit_apply(mkfolder('0000_a', 'CREATE TABLE a (id int);',
  '0001_b', 'CREATE TABLE b (id int);', '0002_c', 'CREATE TABLE c (id int);', '0004_e', 'CREATE TABLE e (id int);',
  '0005_f', 'CREATE TABLE f (id int);'), '{"drizzle_schema": "x\"; DROP TABLE a; --", "drizzle_table": "t''s"}');
SELECT to_regclass('a') IS NOT NULL AS a_still_here,
       (SELECT count(*) FROM "x""; DROP TABLE a; --"."t's") AS odd_table_rows;
