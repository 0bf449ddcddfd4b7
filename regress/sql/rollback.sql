-- dbkit_rollback(folder, options) from SQL: down files newest first in the caller's
-- transaction, history and drizzle's table in step, a rollback event; every refusal
-- (options, missing/irreversible down files, baselined migrations, a failing down
-- file) changes nothing and leaves the session usable.
CREATE DATABASE dbkit_rollback;
\c dbkit_rollback
CREATE EXTENSION dbkit;
\set VERBOSITY default
\i regress/sql/mkfolder.inc

-- the folder with down files: <tag>.down.sql next to <tag>.sql
CREATE FUNCTION with_down(f jsonb, VARIADIC d text[]) RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_set(f, '{files}', (f->'files') ||
         (SELECT jsonb_object_agg(d[2 * i - 1] || '.down.sql', d[2 * i]) FROM generate_series(1, array_length(d, 1) / 2) i))
$$;
CREATE TEMP TABLE f AS SELECT with_down(
  mkfolder('0000_a', 'CREATE TABLE a (id int);', '0001_b', 'CREATE TABLE b (id int);',
           '0002_c', 'ALTER TABLE a ADD COLUMN note text;'),
  '0000_a', 'DROP TABLE a;', '0001_b', 'DROP TABLE b;', '0002_c', 'ALTER TABLE a DROP COLUMN note;') AS f;

SELECT tag, action FROM dbkit_apply((SELECT f FROM f));
SELECT tag, down_hash = encode(sha256(convert_to((SELECT f->'files'->>(tag || '.down.sql') FROM f), 'UTF8')), 'hex') AS down_hash_recorded
  FROM dbkit.migrations ORDER BY id;

-- options: a reason, and exactly one of steps / to
SELECT * FROM dbkit_rollback((SELECT f FROM f), '{"steps": 1}');
SELECT * FROM dbkit_rollback((SELECT f FROM f), '{"reason": "x"}');
SELECT * FROM dbkit_rollback((SELECT f FROM f), '{"reason": "x", "steps": 1, "to": "0000_a"}');
SELECT * FROM dbkit_rollback((SELECT f FROM f), '{"reason": "x", "steps": "1"}');
SELECT * FROM dbkit_rollback((SELECT f FROM f), '{"reason": "x", "to": "0009_nope"}');
SELECT * FROM dbkit_rollback((SELECT f FROM f), '{"reason": "x", "to": "0002_c"}');
SELECT * FROM dbkit_rollback((SELECT f FROM f), '{"reason": "x", "steps": 4}');
-- rollback options are dbkit_rollback's only
SELECT * FROM dbkit_apply((SELECT f FROM f), '{"dry_run": true}');
SELECT count(*) AS still_applied FROM dbkit.migrations;

-- the dry run lists, newest first, and changes nothing
SELECT idx, tag, action, statements, down_file FROM dbkit_rollback((SELECT f FROM f), '{"reason": "look", "to": "0000_a", "dry_run": true}');
SELECT count(*) AS still_applied FROM dbkit.migrations;

-- two steps, in this transaction
SELECT idx, tag, action, statements, down_file FROM dbkit_rollback((SELECT f FROM f), '{"reason": "bad deploy", "steps": 2}');
SELECT tag FROM dbkit.migrations ORDER BY id;
SELECT count(*) AS drizzle_rows FROM drizzle.__drizzle_migrations;
SELECT to_regclass('b') AS b, (SELECT count(*) FROM pg_attribute WHERE attrelid = 'a'::regclass AND attname = 'note') AS note;
SELECT action, tag, reason, jsonb_array_length(detail->'rolled_back') AS n, detail->'rolled_back'->0->>'tag' AS first,
       detail->>'now_at' AS now_at FROM dbkit.events WHERE action = 'rollback';
SELECT count(*) AS drift FROM dbkit_drift();

-- a missing and an irreversible down file: refused by name, nothing runs
SELECT tag, action FROM dbkit_apply((SELECT f FROM f));
UPDATE f SET f = jsonb_set(f, '{files}', (f->'files') - '0001_b.down.sql' ||
                 '{"0002_c.down.sql": "-- dbkit:irreversible: the notes are lost\nALTER TABLE a DROP COLUMN note;"}');
SELECT * FROM dbkit_rollback((SELECT f FROM f), '{"reason": "x", "to": "0000_a"}');
SELECT count(*) AS still_applied FROM dbkit.migrations;
SELECT 1 AS session_still_works;

-- a failing down file: the caller's transaction is aborted, nothing stays
UPDATE f SET f = jsonb_set(f, '{files}', (f->'files') || '{"0002_c.down.sql": "ALTER TABLE a DROP COLUMN nope;", "0001_b.down.sql": "DROP TABLE b;"}');
SELECT * FROM dbkit_rollback((SELECT f FROM f), '{"reason": "x", "steps": 1}');
SELECT count(*) AS still_applied FROM dbkit.migrations;

-- a baselined migration is never rolled back
\c postgres
DROP DATABASE dbkit_rollback;
CREATE DATABASE dbkit_rollback;
\c dbkit_rollback
CREATE EXTENSION dbkit;
\set VERBOSITY default
\i regress/sql/mkfolder.inc
CREATE TABLE a (id int);
SELECT tag, action FROM dbkit_baseline(mkfolder('0000_a', 'CREATE TABLE a (id int);') ||
  '{"files": {"0000_a.sql": "CREATE TABLE a (id int);", "0000_a.down.sql": "DROP TABLE a;"}}', '0000_a');
SELECT * FROM dbkit_rollback(mkfolder('0000_a', 'CREATE TABLE a (id int);') ||
  '{"files": {"0000_a.sql": "CREATE TABLE a (id int);", "0000_a.down.sql": "DROP TABLE a;"}}', '{"reason": "x", "steps": 1}');
SELECT to_regclass('a') AS a;

\c postgres
DROP DATABASE dbkit_rollback;
