-- dbkit_lint: every rule with a statement that triggers it and a safe variant
-- that does not; severities follow the size of the table in this database; a
-- waiver comment drops a finding.
CREATE DATABASE dbkit_lint;
\c dbkit_lint
CREATE EXTENSION dbkit;
\set VERBOSITY default

-- big: 200k rows, analyzed; few: 10 rows, never analyzed; empty: no rows
CREATE TABLE big (id int PRIMARY KEY, a int, b text, v varchar(50), n numeric(12,2), ts timestamptz, few_id int);
INSERT INTO big SELECT g, g, 'x', 'y', 1, '2024-01-01', 1 FROM generate_series(1, 200000) g;
ANALYZE big;
CREATE TABLE few (id int PRIMARY KEY, a int);
INSERT INTO few SELECT g, g FROM generate_series(1, 10) g;
CREATE TABLE empty (id int PRIMARY KEY, a int);
CREATE TYPE mood AS ENUM ('ok');

------------------------------------------------------------------------------
-- data loss
------------------------------------------------------------------------------
-- data-loss.drop-table; a table created earlier in the same migration is empty: nothing
SELECT severity, rule, statement, line FROM dbkit_lint($$DROP TABLE public.big;$$);
SELECT severity, rule, statement, line FROM dbkit_lint($$CREATE TABLE scratch (id int PRIMARY KEY);
DROP TABLE scratch;$$);

-- data-loss.drop-column; dropping a constraint loses no data
SELECT severity, rule, statement, line FROM dbkit_lint($$ALTER TABLE public.big DROP COLUMN b;$$);
SELECT severity, rule, statement, line FROM dbkit_lint($$ALTER TABLE public.big DROP CONSTRAINT IF EXISTS big_a_check;$$);

-- data-loss.drop-schema; dropping a view loses no data
SELECT severity, rule, statement, line, message FROM dbkit_lint($$DROP SCHEMA archive CASCADE;$$);
SELECT severity, rule, statement, line FROM dbkit_lint($$DROP VIEW IF EXISTS big_view;$$);

-- data-loss.drop-type (a domain too); dropping a function is not
SELECT severity, rule, statement, line, message FROM dbkit_lint($$DROP TYPE mood;
DROP DOMAIN positive;$$);
SELECT severity, rule, statement, line FROM dbkit_lint($$DROP FUNCTION IF EXISTS f();$$);

-- data-loss.truncate; DELETE with a WHERE clause is not
SELECT severity, rule, statement, line FROM dbkit_lint($$TRUNCATE public.big;$$);
SELECT severity, rule, statement, line FROM dbkit_lint($$DELETE FROM public.big WHERE id = 1;$$);

-- data-loss.delete-all
SELECT severity, rule, statement, line FROM dbkit_lint($$DELETE FROM public.big;$$);

-- data-loss.update-all; with WHERE: nothing
SELECT severity, rule, statement, line FROM dbkit_lint($$UPDATE public.big SET a = 0;$$);
SELECT severity, rule, statement, line FROM dbkit_lint($$UPDATE public.big SET a = 0 WHERE id < 100;$$);

-- data-loss.narrowing-type (with lock.alter-type: the type change rewrites big);
-- widening integer -> bigint rewrites but loses nothing
SELECT severity, rule, statement, line FROM dbkit_lint($$ALTER TABLE public.big ALTER COLUMN v TYPE varchar(20);$$);
SELECT severity, rule, statement, line FROM dbkit_lint($$ALTER TABLE public.big ALTER COLUMN n TYPE numeric(8,2);$$);
SELECT severity, rule, statement, line FROM dbkit_lint($$ALTER TABLE public.big ALTER COLUMN ts TYPE date;$$);
SELECT severity, rule, statement, line FROM dbkit_lint($$ALTER TABLE public.big ALTER COLUMN a TYPE smallint;$$);
SELECT severity, rule, statement, line FROM dbkit_lint($$ALTER TABLE public.big ALTER COLUMN a TYPE bigint;$$);

-- rename.drop-add, in one statement and across two; RENAME COLUMN keeps the data
SELECT severity, rule, statement, line FROM dbkit_lint($$ALTER TABLE public.big DROP COLUMN b, ADD COLUMN b2 text;$$);
SELECT severity, rule, statement, line FROM dbkit_lint($$ALTER TABLE public.big DROP COLUMN b;
ALTER TABLE public.big ADD COLUMN b2 text;$$);
SELECT severity, rule, statement, line FROM dbkit_lint($$ALTER TABLE public.big RENAME COLUMN b TO b2;$$);

------------------------------------------------------------------------------
-- locks
------------------------------------------------------------------------------
-- lock.alter-type (above); adding a new column instead locks briefly
SELECT severity, rule, statement, line FROM dbkit_lint($$ALTER TABLE public.big ADD COLUMN a2 bigint;$$);

-- lock.volatile-default; a constant or a stable default (now()) does not rewrite
SELECT severity, rule, statement, line FROM dbkit_lint($$ALTER TABLE public.big ADD COLUMN token uuid DEFAULT gen_random_uuid();$$);
SELECT severity, rule, statement, line FROM dbkit_lint($$ALTER TABLE public.big ADD COLUMN r float8 DEFAULT random() NOT NULL;$$);
SELECT severity, rule, statement, line FROM dbkit_lint($$ALTER TABLE public.big ADD COLUMN flag boolean DEFAULT false NOT NULL;
ALTER TABLE public.big ADD COLUMN created_at timestamptz DEFAULT now();$$);

-- lock.set-not-null; a NOT VALID check first does not scan under the lock
SELECT severity, rule, statement, line FROM dbkit_lint($$ALTER TABLE public.big ALTER COLUMN a SET NOT NULL;$$);
SELECT severity, rule, statement, line FROM dbkit_lint($$ALTER TABLE public.big ADD CONSTRAINT big_a_not_null CHECK (a IS NOT NULL) NOT VALID;$$);

-- lock.create-index; CONCURRENTLY does not block writes
SELECT severity, rule, statement, line FROM dbkit_lint($$CREATE INDEX big_a_idx ON public.big (a);$$);
SELECT severity, rule, statement, line FROM dbkit_lint($$CREATE INDEX CONCURRENTLY big_a_idx ON public.big (a);$$);

-- lock.add-foreign-key (and schema.fk-without-index); NOT VALID on indexed columns: nothing
SELECT severity, rule, statement, line FROM dbkit_lint($$ALTER TABLE public.big ADD CONSTRAINT big_few_fk FOREIGN KEY (few_id) REFERENCES few (id);$$);
SELECT severity, rule, statement, line FROM dbkit_lint($$ALTER TABLE public.big ADD CONSTRAINT big_few_fk FOREIGN KEY (id) REFERENCES few (id) NOT VALID;$$);

-- lock.add-check; NOT VALID then VALIDATE: nothing
SELECT severity, rule, statement, line FROM dbkit_lint($$ALTER TABLE public.big ADD CONSTRAINT big_a_check CHECK (a > 0);$$);
SELECT severity, rule, statement, line FROM dbkit_lint($$ALTER TABLE public.big ADD CONSTRAINT big_a_check CHECK (a > 0) NOT VALID;
ALTER TABLE public.big VALIDATE CONSTRAINT big_a_check;$$);

------------------------------------------------------------------------------
-- transactions
------------------------------------------------------------------------------
-- tx.enum-value-used; adding the value alone (used by a later migration) is fine
SELECT severity, rule, statement, line, message FROM dbkit_lint($$ALTER TYPE mood ADD VALUE 'sad';
CREATE TABLE moods (id int PRIMARY KEY, m mood NOT NULL DEFAULT 'ok');
INSERT INTO moods VALUES (1, 'sad');$$);
SELECT severity, rule, statement, line FROM dbkit_lint($$ALTER TYPE mood ADD VALUE 'sad';$$);
-- the same label added to a second enum is no use of the first's (Dokploy's 0033_white_hawkeye)
SELECT severity, rule, statement, line FROM dbkit_lint($$ALTER TYPE mood ADD VALUE 'sad';
ALTER TYPE other_mood ADD VALUE 'sad';$$);
-- nor is a new enum listing the same label, plain or in drizzle-kit's DO block (glitter-nextjs)
SELECT severity, rule, statement, line FROM dbkit_lint($$ALTER TYPE mood ADD VALUE 'sad';
CREATE TYPE feeling AS ENUM ('ok', 'sad');
DO $x$ BEGIN CREATE TYPE "public"."feeling2" AS ENUM('sad'); EXCEPTION WHEN duplicate_object THEN null; END $x$;$$);

-- tx.non-transactional: mixed with transactional statements; alone: nothing
SELECT severity, rule, statement, line, message FROM dbkit_lint($$ALTER TABLE public.big ADD COLUMN c int;
CREATE INDEX CONCURRENTLY big_c_idx ON public.big (c);$$);
SELECT severity, rule, statement, line FROM dbkit_lint($$CREATE INDEX CONCURRENTLY big_c_idx ON public.big (c);$$);

------------------------------------------------------------------------------
-- schema
------------------------------------------------------------------------------
-- schema.no-primary-key; a primary key (inline or as a constraint) or a partition: nothing
SELECT severity, rule, statement, line, message FROM dbkit_lint($$CREATE TABLE log (at timestamptz, msg text);$$);
SELECT severity, rule, statement, line FROM dbkit_lint($$CREATE TABLE log (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, msg text);
CREATE TABLE log2 (a int, b int, CONSTRAINT log2_pk PRIMARY KEY (a, b));
CREATE TABLE log3 (at date NOT NULL, PRIMARY KEY (at)) PARTITION BY RANGE (at);
CREATE TABLE log3_2024 PARTITION OF log3 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');$$);

-- schema.fk-without-index; an index on the columns (in the table, later in the
-- migration, or already in the database) or a unique key leading with them: nothing
SELECT severity, rule, statement, line, message FROM dbkit_lint($$CREATE TABLE parent (id int PRIMARY KEY);
CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent (id));$$);
SELECT severity, rule, statement, line FROM dbkit_lint($$CREATE TABLE parent (id int PRIMARY KEY);
CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent (id));
CREATE INDEX child_parent_id_idx ON child (parent_id);
CREATE TABLE child2 (id int PRIMARY KEY, parent_id int REFERENCES parent (id), UNIQUE (parent_id, id));$$);

------------------------------------------------------------------------------
-- syntax: reported with its line, the rest is still linted
------------------------------------------------------------------------------
SELECT severity, rule, statement, line, message FROM dbkit_lint($$CREATE TABLE ok (id int PRIMARY KEY);
ALTER TABLE ok
  ADD COLUMN b tetx NOT NUL;$$);
SELECT severity, rule, statement, line FROM dbkit_lint($$CREATE TABLE ok (id int PRIMARY KEY);
--> statement-breakpoint
SELEC 1;
--> statement-breakpoint
DROP TABLE public.big;$$);

------------------------------------------------------------------------------
-- severity follows the table: 200k rows (lock rules: error), 10 rows never
-- analyzed (a hazard all the same), empty or not existing yet (info)
------------------------------------------------------------------------------
SELECT t AS "table", l.severity, l.rule
  FROM unnest(ARRAY['public.big', 'public.few', 'public.empty', 'public.not_yet']) t,
       LATERAL dbkit_lint('CREATE INDEX ON ' || t || ' (a);') l ORDER BY 1;
SELECT t AS "table", l.severity, l.rule
  FROM unnest(ARRAY['public.big', 'public.few', 'public.empty', 'public.not_yet']) t,
       LATERAL dbkit_lint('ALTER TABLE ' || t || ' ADD CONSTRAINT c CHECK (a > 0);') l ORDER BY 1;
SELECT t AS "table", l.severity, l.rule
  FROM unnest(ARRAY['public.big', 'public.few', 'public.empty', 'public.not_yet']) t,
       LATERAL dbkit_lint('DELETE FROM ' || t || ';') l ORDER BY 1;
-- the message says why
SELECT severity, rule, message FROM dbkit_lint($$TRUNCATE public.empty;
TRUNCATE public.not_yet;$$);

-- names as drizzle-kit writes them (unqualified, quoted) resolve as the migration will
SELECT t AS "table", l.severity, l.rule
  FROM unnest(ARRAY['big', '"big"', 'public.big', '"public"."big"']) t,
       LATERAL dbkit_lint('DELETE FROM ' || t || ';') l ORDER BY 1;
SELECT t AS "table", l.severity, l.rule
  FROM unnest(ARRAY['big', '"big"', 'public.big', '"public"."big"']) t,
       LATERAL dbkit_lint('CREATE INDEX ON ' || t || ' (a);') l ORDER BY 1;

------------------------------------------------------------------------------
-- waivers: -- dbkit:allow <rule> [<rule> ...] drops those rules only
------------------------------------------------------------------------------
SELECT severity, rule, statement, line FROM dbkit_lint($$TRUNCATE public.big;
DELETE FROM public.big;$$);
SELECT severity, rule, statement, line FROM dbkit_lint($$-- dbkit:allow data-loss.truncate
TRUNCATE public.big;
DELETE FROM public.big;$$);
SELECT severity, rule, statement, line FROM dbkit_lint($$TRUNCATE public.big; -- dbkit:allow data-loss.truncate data-loss.delete-all
DELETE FROM public.big;$$);
-- a waiver of another rule changes nothing
SELECT severity, rule, statement, line FROM dbkit_lint($$-- dbkit:allow lock.create-index
TRUNCATE public.big;$$);

-- linting changes nothing
SELECT count(*), count(DISTINCT b) FROM big;
SELECT count(*) FROM pg_class WHERE relname IN ('scratch', 'log', 'parent', 'child', 'ok', 'moods', 'big_a_idx');

------------------------------------------------------------------------------
-- an enum value one pending migration adds and a later one uses: a default deploy
-- runs both in one transaction (55P04); a non-transactional migration between them
-- commits first
------------------------------------------------------------------------------
CREATE TYPE mood2 AS ENUM ('ok');
CREATE TABLE feel (m mood2);
-- the folder: 0000 adds the value, 0001 is `other`, 0002 is `use`
CREATE FUNCTION enum_run(other text, use text) RETURNS jsonb LANGUAGE sql AS $f$
SELECT jsonb_build_object(
  'journal', '{"version": "7", "dialect": "postgresql", "entries": [
     {"idx": 0, "version": "7", "when": 1, "tag": "0000_add", "breakpoints": true},
     {"idx": 1, "version": "7", "when": 2, "tag": "0001_other", "breakpoints": true},
     {"idx": 2, "version": "7", "when": 3, "tag": "0002_use", "breakpoints": true}]}',
  'files', jsonb_build_object('0000_add.sql', $$ALTER TYPE mood2 ADD VALUE 'sad';$$,
                              '0001_other.sql', other, '0002_use.sql', use))
$f$;
SELECT tag, severity, rule, statement, line FROM dbkit_lint_folder(enum_run(
  'CREATE TABLE other (id int PRIMARY KEY);',
  E'CREATE TABLE x (id int PRIMARY KEY);\n--> statement-breakpoint\nUPDATE feel SET m = \'sad\' WHERE m = \'ok\';'))
 WHERE rule = 'tx.enum-value-used';
SELECT code, subject, message, hint FROM dbkit_validate(enum_run(
  'CREATE TABLE other (id int PRIMARY KEY);',
  E'CREATE TABLE x (id int PRIMARY KEY);\n--> statement-breakpoint\nUPDATE feel SET m = \'sad\' WHERE m = \'ok\';'))
 WHERE code = 'lint.tx.enum-value-used';
-- CONCURRENTLY in 0001: it runs on its own, after 0000 commits
SELECT count(*) AS findings FROM dbkit_lint_folder(enum_run(
  'CREATE INDEX CONCURRENTLY feel_m ON feel (m);', $$UPDATE feel SET m = 'sad' WHERE m = 'ok';$$))
 WHERE rule = 'tx.enum-value-used';

\c postgres
DROP DATABASE dbkit_lint;
