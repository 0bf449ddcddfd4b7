-- dbkit 0.1.0 -> 0.2.0. sql/dbkit--0.1.0.sql is released and frozen: every change to
-- dbkit's SQL objects since then lives here (and in later upgrade scripts), so that
-- ALTER EXTENSION dbkit UPDATE keeps a database's history, snapshots and audit.
-- A fresh CREATE EXTENSION runs 0.1.0 and then this script: fresh and upgraded
-- installs are built by the same statements.
\echo Use "ALTER EXTENSION dbkit UPDATE TO '0.2.0'" to load this file. \quit


-- issue 16 items 1, 2, 7, 8: the non-transactional path.
-- Drift found when a non-transactional migration starts (before its first statement
-- runs) is carried into the reference dbkit_nontx_finish records, as dbkit_apply does;
-- DDL by others after the start (audit entries after audit_mark) is reported.
ALTER TABLE dbkit.progress ADD COLUMN absorbed_drift boolean NOT NULL DEFAULT false,
                           ADD COLUMN carried_drift jsonb,
                           ADD COLUMN audit_mark bigint;
-- What to do around one statement dbkit_nontx_start handed out: run it in one
-- transaction with its progress row, skip an index build that completed, drop an
-- invalid index before building it again, and check the index after.
CREATE FUNCTION @extschema@.dbkit_nontx_statement(tag text, statement integer, sql text, phase text)
RETURNS TABLE (top_level boolean, action text, before_sql text, note text)
AS 'MODULE_PATHNAME', 'dbkit_nontx_statement' LANGUAGE C VOLATILE;
