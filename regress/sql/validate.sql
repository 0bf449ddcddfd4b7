-- dbkit_validate: one row per finding, with PostgreSQL's parser and the
-- history; it changes nothing.
CREATE DATABASE dbkit_validate;
\c dbkit_validate
CREATE EXTENSION dbkit;
\set VERBOSITY default

-- a clean folder: no rows
SELECT count(*) FROM dbkit_validate(jsonb_build_object(
  'journal', '{"version": "7", "dialect": "postgresql", "entries": [{"idx": 0, "version": "7", "when": 1, "tag": "0000_a", "breakpoints": true}]}',
  'files', jsonb_build_object('0000_a.sql', 'CREATE TABLE a (id int);')));

-- parser findings: syntax error (with line), CONCURRENTLY, BEGIN, COPY FROM STDIN, an empty file;
-- journal findings: when not increasing, an unlisted file
SELECT severity, code, subject, message FROM dbkit_validate(jsonb_build_object(
  'journal', '{"version": "7", "dialect": "postgresql", "entries": [
     {"idx": 0, "version": "7", "when": 5, "tag": "0000_a", "breakpoints": true},
     {"idx": 1, "version": "7", "when": 4, "tag": "0001_b", "breakpoints": true},
     {"idx": 2, "version": "7", "when": 6, "tag": "0002_c", "breakpoints": true}]}',
  'files', jsonb_build_object(
     '0000_a.sql', E'CREATE TABLE a (id int);\n--> statement-breakpoint\nCREATE INDEX CONCURRENTLY a_id ON a (id);',
     '0001_b.sql', E'BEGIN;\nCOPY a FROM STDIN;\n--> statement-breakpoint\nALTER TABLE a\n  ADD COLUMN b tetx NOT NUL;',
     '0002_c.sql', E'-- nothing here\n',
     '0003_stray.sql', 'SELECT 1;')))
ORDER BY code, subject;

-- snapshots: a branch collision names the real parent and both children
SELECT severity, code, subject, message FROM dbkit_validate(jsonb_build_object(
  'journal', '{"version": "7", "dialect": "postgresql", "entries": [
     {"idx": 0, "version": "7", "when": 1, "tag": "0000_a", "breakpoints": true},
     {"idx": 1, "version": "7", "when": 2, "tag": "0001_b", "breakpoints": true},
     {"idx": 2, "version": "7", "when": 3, "tag": "0002_c", "breakpoints": true}]}',
  'files', jsonb_build_object('0000_a.sql', 'SELECT 1;', '0001_b.sql', 'SELECT 2;', '0002_c.sql', 'SELECT 3;',
     'meta/0000_snapshot.json', '{"id": "aaaa", "prevId": "00000000-0000-0000-0000-000000000000"}',
     'meta/0001_snapshot.json', '{"id": "bbbb", "prevId": "aaaa"}',
     'meta/0002_snapshot.json', '{"id": "cccc", "prevId": "aaaa"}')))
ORDER BY code;

-- against the history: modified, missing, out of order; nothing applied by validate
SELECT tag, action FROM dbkit_apply(jsonb_build_object(
  'journal', '{"version": "7", "dialect": "postgresql", "entries": [
     {"idx": 0, "version": "7", "when": 1, "tag": "0000_a", "breakpoints": true},
     {"idx": 1, "version": "7", "when": 3, "tag": "0002_c", "breakpoints": true},
     {"idx": 2, "version": "7", "when": 4, "tag": "0003_d", "breakpoints": true}]}',
  'files', jsonb_build_object('0000_a.sql', 'CREATE TABLE a (id int);', '0002_c.sql', 'CREATE TABLE c (id int);',
                              '0003_d.sql', 'CREATE TABLE d (id int);')));
SELECT severity, code, subject FROM dbkit_validate(jsonb_build_object(
  'journal', '{"version": "7", "dialect": "postgresql", "entries": [
     {"idx": 0, "version": "7", "when": 1, "tag": "0000_a", "breakpoints": true},
     {"idx": 1, "version": "7", "when": 2, "tag": "0001_b", "breakpoints": true},
     {"idx": 2, "version": "7", "when": 3, "tag": "0002_c", "breakpoints": true}]}',
  'files', jsonb_build_object('0000_a.sql', 'CREATE TABLE a (id bigint);', '0001_b.sql', 'CREATE TABLE b (id int);',
                              '0002_c.sql', 'CREATE TABLE c (id int);')))
ORDER BY code;
SELECT to_regclass('b') IS NULL AS b_not_created, count(*) AS history_rows FROM dbkit.migrations;

-- a broken journal: its finding, and the history checks are skipped with a notice
SELECT severity, code, message FROM dbkit_validate('{"journal": "{\"version\": \"7\", \"dialect\": \"postgresql\", \"entries\": [}", "files": {}}');

-- the folders layout of drizzle-kit 1.0 is understood as well
SELECT count(*) FROM dbkit_validate('{"files": {"20261125221325_calm_jack/migration.sql": "SELECT 1;", "20261125221400_next/migration.sql": "SELECT 2;"}}')
 WHERE code NOT LIKE 'history.%';
SELECT idx, tag, state, file FROM dbkit_status('{"files": {"20261125221400_next/migration.sql": "SELECT 2;", "20261125221325_calm_jack/migration.sql": "SELECT 1;"}}')
 WHERE state <> 'missing';
SELECT severity, code, subject FROM dbkit_validate('{"files": {"2026_bad/migration.sql": "SELECT 1;"}}');
SELECT 'session still usable' AS ok;
