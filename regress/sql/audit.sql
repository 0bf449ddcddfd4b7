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

-- inside a savepoint dbkit_drift() leaves the pending entries alone: written
-- there, they would be lost if the savepoint rolled back
BEGIN;
CREATE TABLE e2 (id integer);
SAVEPOINT s;
SELECT kind, object, audit AS no_audit_yet FROM dbkit_drift() WHERE object = 'public.e2';
ROLLBACK TO s;
COMMIT;
SELECT count(*) AS e2_rows FROM dbkit.ddl_audit WHERE object_identity = 'public.e2';

-- SET TRANSACTION READ ONLY after the DDL does not keep it out of the audit
BEGIN;
CREATE TABLE h1 (id integer);
SET TRANSACTION READ ONLY;
COMMIT;
SELECT count(*) AS h1_rows FROM dbkit.ddl_audit WHERE object_identity = 'public.h1';

-- many savepoints with DDL in them, half rolled back
DO $$
BEGIN
  FOR i IN 1 .. 200 LOOP
    BEGIN
      EXECUTE format('CREATE TABLE sp_%s (id integer)', i);
      IF i % 2 = 0 THEN
        RAISE EXCEPTION 'roll this one back';
      END IF;
    EXCEPTION WHEN raise_exception THEN
      NULL;
    END;
  END LOOP;
END $$;
SELECT count(*) AS sp_rows, count(*) FILTER (WHERE right(object_identity, 1) IN ('0', '2', '4', '6', '8')) AS even
  FROM dbkit.ddl_audit WHERE object_identity LIKE 'public.sp\_%';

-- one query string with several DDL statements: one row each, the string kept once
CREATE TABLE k1 (id integer) \; CREATE TABLE k2 (id integer) \; CREATE TABLE k3 (id integer);
SELECT count(*) AS k_rows, count(DISTINCT statement) AS statements
  FROM dbkit.ddl_audit WHERE object_identity IN ('public.k1', 'public.k2', 'public.k3');

-- the table cannot take the rows: a WARNING, and the DDL is committed
ALTER TABLE dbkit.ddl_audit ADD CONSTRAINT refuse CHECK (false) NOT VALID;
CREATE TABLE f1 (id integer);
SELECT to_regclass('public.f1') IS NOT NULL AS f1_committed;
ALTER TABLE dbkit.ddl_audit DROP CONSTRAINT refuse;

-- a cancel while the entries are written (pg_cancel_backend during COMMIT,
-- simulated by a trigger raising SQLSTATE 57014) fails the commit: DDL is
-- never committed unaudited
CREATE FUNCTION cancel_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'canceling statement due to user request' USING ERRCODE = 'query_canceled'; END $$;
SET dbkit.audit = off;  -- or the trigger's own creation would be "cancelled" at its commit
CREATE TRIGGER slow BEFORE INSERT ON dbkit.ddl_audit FOR EACH ROW EXECUTE FUNCTION cancel_audit();
RESET dbkit.audit;
BEGIN;
CREATE TABLE j1 (id integer);
COMMIT;
SELECT to_regclass('public.j1') IS NULL AS j1_not_committed;
SET dbkit.audit = off;
DROP TRIGGER slow ON dbkit.ddl_audit;
RESET dbkit.audit;

-- DROP EXTENSION in the same transaction as other DDL: no warning, no error
BEGIN;
CREATE TABLE g1 (id integer);
DROP VIEW audit;
DROP EXTENSION dbkit;
COMMIT;

\c postgres
DROP DATABASE dbkit_audit;
DROP ROLE dbkit_audit_r;
