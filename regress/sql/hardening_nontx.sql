-- issue 16: the non-transactional path (items 1, 7, 9, 10).
CREATE DATABASE dbkit_hardening_nontx;
\c dbkit_hardening_nontx
CREATE EXTENSION dbkit;
\set VERBOSITY default
\i regress/sql/mkfolder.inc
CREATE TABLE part (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE part_2026 PARTITION OF part FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX part_id ON part (id);
CREATE TABLE plain (id int);
CREATE INDEX plain_id ON plain (id);

-- item 9: every statement PostgreSQL 15 refuses in a transaction block is classified as
-- non-transactional, by lint (tx.non-transactional next to a transactional statement) and by
-- check (migration.no_transaction), and both agree; the look-alikes that may run in one are not.
CREATE FUNCTION classify(stmt text, OUT lint boolean, OUT "check" boolean) LANGUAGE sql AS $$
  SELECT EXISTS (SELECT FROM dbkit_lint('SELECT 1;' || chr(10) || stmt) WHERE rule = 'tx.non-transactional'),
         EXISTS (SELECT FROM dbkit_validate(mkfolder('0000_x', stmt || ';')) WHERE code = 'migration.no_transaction')
$$;
SELECT stmt, (classify(stmt)).* FROM (VALUES
  ('CREATE INDEX CONCURRENTLY plain_id2 ON plain (id)'),
  ('CREATE INDEX plain_id3 ON plain (id)'),
  ('DROP INDEX CONCURRENTLY plain_id'),
  ('DROP INDEX plain_id'),
  ('REINDEX INDEX CONCURRENTLY plain_id'),
  ('REINDEX (CONCURRENTLY) TABLE plain'),
  ('REINDEX TABLE plain'),
  ('REINDEX TABLE part'),
  ('REINDEX INDEX part_id'),
  ('REINDEX SCHEMA public'),
  ('REINDEX DATABASE dbkit_hardening_nontx'),
  ('REINDEX SYSTEM dbkit_hardening_nontx'),
  ('VACUUM plain'),
  ('VACUUM (ANALYZE) plain'),
  ('ANALYZE plain'),
  ('CLUSTER'),
  ('CLUSTER plain USING plain_id'),
  ('CLUSTER part USING part_id'),
  ('ALTER TABLE part DETACH PARTITION part_2026 CONCURRENTLY'),
  ('ALTER TABLE part DETACH PARTITION part_2026'),
  ('ALTER TABLE part DETACH PARTITION part_2026 FINALIZE'),
  ('DISCARD ALL'),
  ('DISCARD PLANS'),
  ('CREATE DATABASE d2'),
  ('DROP DATABASE d2'),
  ('ALTER DATABASE d2 SET TABLESPACE pg_default'),
  ('ALTER DATABASE d2 SET work_mem = ''1MB'''),
  ('ALTER SYSTEM SET work_mem = ''1MB'''),
  ('CREATE TABLESPACE ts LOCATION ''/tmp/ts'''),
  ('DROP TABLESPACE ts'),
  ('ALTER TABLESPACE ts RENAME TO ts2'),
  ('CREATE SUBSCRIPTION s CONNECTION ''dbname=x'' PUBLICATION p'),
  ('CREATE SUBSCRIPTION s CONNECTION ''dbname=x'' PUBLICATION p WITH (connect = false)'),
  ('CREATE SUBSCRIPTION s CONNECTION ''dbname=x'' PUBLICATION p WITH (create_slot = false)'),
  ('ALTER SUBSCRIPTION s REFRESH PUBLICATION'),
  ('ALTER SUBSCRIPTION s SET PUBLICATION p'),
  ('ALTER SUBSCRIPTION s SET PUBLICATION p WITH (refresh = false)'),
  ('ALTER SUBSCRIPTION s ADD PUBLICATION p2'),
  ('ALTER SUBSCRIPTION s DISABLE'),
  ('DROP SUBSCRIPTION s'),
  ('ALTER TYPE mood ADD VALUE ''x'''),
  ('REFRESH MATERIALIZED VIEW CONCURRENTLY mv')
) v(stmt);

-- ... and apply hands such a migration to the client instead of failing with 25001
SELECT action, tag FROM dbkit_apply(mkfolder('0000_detach', 'ALTER TABLE part DETACH PARTITION part_2026 CONCURRENTLY;'));
SELECT action, tag FROM dbkit_apply(mkfolder('0000_discard', 'DISCARD ALL;'));

-- item 10: a migration that would drop or change dbkit's own objects is refused before
-- anything runs, by apply, check and lint, naming the statement
SELECT * FROM dbkit_apply(mkfolder('0000_a', E'CREATE TABLE a (id int);\nDROP EXTENSION dbkit;'));
SELECT to_regclass('a') IS NULL AS a_not_created;
SELECT * FROM dbkit_apply(mkfolder('0000_a', E'CREATE TABLE a (id int);\nDROP SCHEMA dbkit CASCADE;'));
SELECT * FROM dbkit_apply(mkfolder('0000_a', E'DROP TABLE IF EXISTS dbkit.ddl_audit;'));
SELECT * FROM dbkit_apply(mkfolder('0000_a', E'TRUNCATE dbkit.migrations;'));
SELECT * FROM dbkit_apply(mkfolder('0000_a', E'DELETE FROM dbkit.events;'));
-- also in a non-transactional migration, before its first statement
SELECT * FROM dbkit_apply(mkfolder('0000_a', E'CREATE INDEX CONCURRENTLY plain_c ON plain (id);\nDROP EXTENSION dbkit CASCADE;'));
SELECT to_regclass('plain_c') IS NULL AS plain_c_not_created;
SELECT severity, code, message FROM dbkit_validate(mkfolder('0000_a', E'CREATE TABLE a (id int);\nDROP EXTENSION dbkit;'))
 WHERE code = 'migration.dbkit_objects';
SELECT severity, rule, statement, message FROM dbkit_lint(E'CREATE TABLE a (id int);\nALTER TABLE dbkit.progress ADD COLUMN x int;')
 WHERE rule = 'migration.dbkit_objects';
-- a table of the user's named like one of dbkit's is not dbkit's
SELECT count(*) AS findings FROM dbkit_lint('DROP TABLE public.migrations;') WHERE rule = 'migration.dbkit_objects';
SELECT count(*) AS applied FROM dbkit.migrations;

-- item 1: a transactional migration's CREATE INDEX IF NOT EXISTS that skips an existing invalid
-- index is not recorded
CREATE TABLE dup (v int);
INSERT INTO dup VALUES (1), (1);
CREATE UNIQUE INDEX CONCURRENTLY dup_v ON dup (v);
SELECT indisvalid FROM pg_index WHERE indexrelid = 'dup_v'::regclass;
SELECT * FROM dbkit_apply(mkfolder('0000_dup', 'CREATE UNIQUE INDEX IF NOT EXISTS dup_v ON dup (v);'));
SELECT count(*) AS applied FROM dbkit.migrations;
DROP INDEX dup_v;
DELETE FROM dup;

-- item 7: between dbkit_nontx_start and dbkit_nontx_finish, only the statements dbkit handed
-- out escape the DDL audit; finish reports other DDL as drift, as dbkit_apply does
CREATE FUNCTION nt_folder(with_second boolean DEFAULT false) RETURNS jsonb LANGUAGE sql AS $$
  SELECT CASE WHEN with_second THEN
    mkfolder('0000_base', 'CREATE TABLE base (id int);',
             '0001_nt', E'-- dbkit:no-transaction\nCREATE TABLE nt (id int);\nCREATE INDEX CONCURRENTLY nt_id ON nt (id);',
             '0002_nt', E'CREATE INDEX CONCURRENTLY base_id ON base (id);')
  ELSE
    mkfolder('0000_base', 'CREATE TABLE base (id int);',
             '0001_nt', E'-- dbkit:no-transaction\nCREATE TABLE nt (id int);\nCREATE INDEX CONCURRENTLY nt_id ON nt (id);')
  END
$$;
SELECT objects > 0 AS accepted FROM dbkit_accept_drift('regress baseline');
SELECT action, tag FROM dbkit_apply(nt_folder());
SELECT s FROM dbkit_nontx_start(nt_folder(), '0001_nt') st,
  LATERAL (VALUES (1, st.sql), (2, format('SELECT dbkit_nontx_step(%L, %s, true) IS NOT NULL AS stepped', '0001_nt', st.statement))) v(k, s)
  ORDER BY st.statement, v.k \gexec
CREATE TABLE sneaky (id int);
SELECT object_identity FROM dbkit.ddl_audit WHERE object_identity ~ '^public\.(sneaky|nt|nt_id)$' ORDER BY id;
SELECT idx, tag, action, statements FROM dbkit_nontx_finish(nt_folder(), '0001_nt');
SELECT detail->>'absorbed_drift' AS absorbed_drift FROM dbkit.events WHERE action = 'apply' ORDER BY id DESC LIMIT 1;
-- sneaky touched none of the migration's objects: it stays drift, not taken into the reference
SELECT kind, object, change FROM dbkit_drift() WHERE object ~ 'sneaky';
-- a finish that raises leaves the session audited
SELECT statement FROM dbkit_nontx_start(nt_folder(true), '0002_nt');
SELECT top_level, action, before_sql IS NULL AS no_drop
  FROM dbkit_nontx_statement('0002_nt', 1, 'CREATE INDEX CONCURRENTLY base_id ON base (id)', 'before');
SELECT * FROM dbkit_nontx_finish(nt_folder(true), '0002_nt');
CREATE TABLE sneaky2 (id int);
SELECT object_identity FROM dbkit.ddl_audit WHERE object_identity = 'public.sneaky2';
SELECT dbkit_nontx_step('0002_nt', 1, false, 'regress: stopped by hand') = '' AS released;
-- dbkit_nontx_statement answers only for a statement handed out in this session
SELECT * FROM dbkit_nontx_statement('0002_nt', 1, 'CREATE INDEX CONCURRENTLY base_id ON base (id)', 'before');

-- issue 14 item 2: a call less per statement and per migration. The timeouts given
-- before a statement are set for the session; 'done' checks the statement and records
-- its step in one call; with chain_non_transactional, finish names the next migration
-- when it is non-transactional too (then the client starts it without dbkit_apply).
CREATE DATABASE dbkit_nontx_chain;
\c dbkit_nontx_chain
CREATE EXTENSION dbkit;
\set VERBOSITY default
\i regress/sql/mkfolder.inc
CREATE FUNCTION chain_folder() RETURNS jsonb LANGUAGE sql AS $$
  SELECT mkfolder('0000_c', 'CREATE TABLE c0 (id int, v int);',
                  '0001_c', 'CREATE INDEX CONCURRENTLY c1 ON c0 (id);',
                  '0002_c', E'CREATE INDEX CONCURRENTLY c2 ON c0 (v);\n--> statement-breakpoint\nCREATE INDEX CONCURRENTLY c0_id_v ON c0 (id, v);',
                  '0003_c', 'CREATE TABLE c3 (id int);')
$$;
SELECT idx, tag, action FROM dbkit_apply(chain_folder());
SELECT statement, lock_timeout_ms FROM dbkit_nontx_start(chain_folder(), '0001_c');
SELECT top_level, action FROM dbkit_nontx_statement('0001_c', 1, 'CREATE INDEX CONCURRENTLY c1 ON c0 (id)', 'before', 1234, 5678);
SHOW lock_timeout;
SHOW statement_timeout;
SELECT 'CREATE INDEX CONCURRENTLY c1 ON c0 (id)' \gexec
SELECT next_statement AS before_done FROM dbkit.progress WHERE tag = '0001_c';
SELECT action FROM dbkit_nontx_statement('0001_c', 1, 'CREATE INDEX CONCURRENTLY c1 ON c0 (id)', 'done');
SELECT next_statement AS after_done FROM dbkit.progress WHERE tag = '0001_c';
-- the timeouts belong before a statement, and are milliseconds from 0
SELECT * FROM dbkit_nontx_statement('0001_c', 1, 'CREATE INDEX CONCURRENTLY c1 ON c0 (id)', 'done', 5);
SELECT * FROM dbkit_nontx_statement('0001_c', 1, 'CREATE INDEX CONCURRENTLY c1 ON c0 (id)', 'before', -1);
SELECT * FROM dbkit_nontx_statement('0001_c', 1, 'CREATE INDEX CONCURRENTLY c1 ON c0 (id)', 'later');
-- the next one is non-transactional: named, only when asked
SELECT idx, tag, action, statements FROM dbkit_nontx_finish(chain_folder(), '0001_c', '{"chain_non_transactional": true}');
SELECT count(*) AS running FROM dbkit.progress;
SELECT s FROM dbkit_nontx_start(chain_folder(), '0002_c') st,
  LATERAL (VALUES (1, st.sql),
                  (2, format('SELECT action FROM dbkit_nontx_statement(%L, %s, %L, %L)', '0002_c', st.statement, st.sql, 'done'))) v(k, s)
  ORDER BY st.statement, v.k \gexec
SELECT next_statement, statements FROM dbkit.progress WHERE tag = '0002_c';
-- the next one is transactional: dbkit_apply runs it, so finish names nothing
SELECT idx, tag, action, statements FROM dbkit_nontx_finish(chain_folder(), '0002_c', '{"chain_non_transactional": true}');
SELECT idx, tag, action FROM dbkit_apply(chain_folder()) WHERE action <> 'already_applied';
SELECT * FROM dbkit_drift();
RESET lock_timeout;
RESET statement_timeout;
