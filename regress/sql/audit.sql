-- The DDL audit: what a transaction did is written once, when it commits;
-- rolled-back work is not recorded; a failure to write never fails the DDL.
CREATE DATABASE dbkit_audit;
\c dbkit_audit
CREATE EXTENSION dbkit;
\set VERBOSITY default
CREATE VIEW audit AS
  SELECT event, command_tag, object_type, object_identity, current_user_name, statement
    FROM dbkit.ddl_audit ORDER BY id;

-- savepoints: a rolled-back one's DDL is dropped, a released one's kept
BEGIN;
CREATE TABLE a2 (id integer PRIMARY KEY);
SAVEPOINT s1;
CREATE TABLE a3 (id integer);
ROLLBACK TO s1;
SAVEPOINT s2;
CREATE INDEX a2_id ON a2 (id);
RELEASE s2;
-- not written yet: it waits for the commit
SELECT count(*) AS before_commit FROM dbkit.ddl_audit WHERE object_identity IN ('public.a2', 'public.a2_pkey', 'public.a2_id');
COMMIT;
SELECT * FROM audit;

-- a transaction's rows are written together, in one subtransaction (one xmin),
-- not one subtransaction per statement; each keeps the time of its own DDL
BEGIN;
CREATE TABLE b1 (id integer);
SELECT pg_sleep(0.05);
CREATE TABLE b2 (id integer);
CREATE TABLE b3 (id integer);
COMMIT;
SELECT count(*) AS rows, count(DISTINCT xmin::text) AS writes, count(DISTINCT at) AS times
  FROM dbkit.ddl_audit WHERE object_identity IN ('public.b1', 'public.b2', 'public.b3');

-- rolled back: nothing recorded
BEGIN;
CREATE TABLE c1 (id integer);
ROLLBACK;
SELECT count(*) AS c1_rows FROM dbkit.ddl_audit WHERE object_identity = 'public.c1';

-- the role in effect, not the audit function's owner
CREATE ROLE dbkit_audit_r;
GRANT CREATE ON SCHEMA public TO dbkit_audit_r;
SET ROLE dbkit_audit_r;
CREATE TABLE d1 (id integer);
RESET ROLE;
SELECT object_identity, current_user_name FROM dbkit.ddl_audit WHERE object_identity = 'public.d1';

-- dbkit_drift() inside the transaction that made the change still names it
SELECT count(*) > 0 AS reference_taken FROM dbkit_accept_drift('reference for the audit test');
BEGIN;
CREATE TABLE e1 (id integer);
SELECT kind, object, audit->0->>'command' AS command FROM dbkit_drift() WHERE object = 'public.e1';
ROLLBACK;

-- the table cannot take the rows: a WARNING, and the DDL is committed
ALTER TABLE dbkit.ddl_audit ADD CONSTRAINT refuse CHECK (false) NOT VALID;
CREATE TABLE f1 (id integer);
SELECT to_regclass('public.f1') IS NOT NULL AS f1_committed;
ALTER TABLE dbkit.ddl_audit DROP CONSTRAINT refuse;

-- DROP EXTENSION in the same transaction as other DDL: no warning, no error
BEGIN;
CREATE TABLE g1 (id integer);
DROP VIEW audit;
DROP EXTENSION dbkit;
COMMIT;

\c postgres
DROP DATABASE dbkit_audit;
DROP ROLE dbkit_audit_r;
