-- The DDL audit cannot be switched off by application_name (issue 16 item 5),
-- skips temporary objects, and keeps rows only dbkit.audit_retention long
-- (issue 17 item 11).
CREATE DATABASE dbkit_audit_hyg;
\c dbkit_audit_hyg
CREATE EXTENSION dbkit;
\set VERBOSITY default

-- a non-superuser session calling itself pg_restore is audited
CREATE ROLE dbkit_hyg_user LOGIN;
GRANT CREATE ON SCHEMA public TO dbkit_hyg_user;
SET SESSION AUTHORIZATION dbkit_hyg_user;
SET application_name = 'pg_restore';
CREATE TABLE faked (id integer);
RESET SESSION AUTHORIZATION;
SELECT command_tag, object_identity, current_user_name, application_name
  FROM dbkit.ddl_audit WHERE object_identity = 'public.faked';
-- a superuser restoring is not (it could SET dbkit.audit = off anyway)
CREATE TABLE restored (id integer);
SELECT count(*) AS restored_rows FROM dbkit.ddl_audit WHERE object_identity = 'public.restored';
RESET application_name;

-- 2,000 temporary tables, one per transaction: no audit rows
CREATE PROCEDURE many_temp_tables() LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1 .. 2000 LOOP
    CREATE TEMP TABLE tmp_x (id serial PRIMARY KEY, v text) ON COMMIT DROP;
    COMMIT;
  END LOOP;
END $$;
SELECT count(*) AS before FROM dbkit.ddl_audit \gset
CALL many_temp_tables();
SELECT count(*) - :before AS temp_rows FROM dbkit.ddl_audit;
-- nor the other temporary objects, nor DDL on them
CREATE TEMP TABLE tt (id integer);
CREATE INDEX tt_id ON tt (id);
ALTER TABLE tt ADD COLUMN v text;
CREATE TEMP VIEW tv AS SELECT 1 AS one;
CREATE TEMP SEQUENCE ts;
CREATE FUNCTION pg_temp.tf() RETURNS integer LANGUAGE sql AS 'SELECT 1';
DROP TABLE tt;
SELECT count(*) - :before AS temp_rows FROM dbkit.ddl_audit;
-- a permanent table still is
CREATE TABLE kept (id integer);
SELECT count(*) - :before AS rows_after_permanent FROM dbkit.ddl_audit;

-- retention: 90 days by default, superuser-only
SHOW dbkit.audit_retention;
SET ROLE dbkit_hyg_user;
SET dbkit.audit_retention = '1min';
RESET ROLE;
-- rows older than the setting are deleted by a session's first audited commit
ALTER DATABASE dbkit_audit_hyg SET dbkit.audit_retention = '30d';
INSERT INTO dbkit.ddl_audit (at, event, command_tag, object_identity)
SELECT now() - interval '1 day' * d, 'ddl_command_end', 'CREATE TABLE', 'public.old_' || d
  FROM generate_series(10, 100, 10) d;
SELECT count(*) AS old_rows FROM dbkit.ddl_audit WHERE object_identity LIKE 'public.old\_%';
\c dbkit_audit_hyg
SHOW dbkit.audit_retention;
CREATE TABLE trigger_purge (id integer);
SELECT object_identity FROM dbkit.ddl_audit WHERE object_identity LIKE 'public.old\_%' ORDER BY at DESC;
SELECT count(*) AS recent_rows_kept FROM dbkit.ddl_audit WHERE object_identity IN ('public.kept', 'public.trigger_purge');
-- 0 turns it off
ALTER DATABASE dbkit_audit_hyg SET dbkit.audit_retention = 0;
INSERT INTO dbkit.ddl_audit (at, event, object_identity) VALUES (now() - interval '10 years', 'ddl_command_end', 'public.ancient');
\c dbkit_audit_hyg
CREATE TABLE no_purge (id integer);
SELECT count(*) AS ancient_kept FROM dbkit.ddl_audit WHERE object_identity = 'public.ancient';

-- purging by hand: recorded; refused for a role that may not delete audit rows
SELECT dbkit_purge_audit('5 years');
SELECT action, detail FROM dbkit.events WHERE action = 'purge-audit';
SELECT dbkit_purge_audit('-1 day');
SELECT dbkit_purge_audit(NULL);
GRANT USAGE ON SCHEMA dbkit TO dbkit_hyg_user;
GRANT SELECT ON dbkit.ddl_audit TO dbkit_hyg_user;
GRANT EXECUTE ON FUNCTION dbkit_purge_audit(interval) TO dbkit_hyg_user;
SET ROLE dbkit_hyg_user;
SELECT dbkit_purge_audit('0');
RESET ROLE;
SELECT count(*) > 0 AS rows_still_there FROM dbkit.ddl_audit;
-- PUBLIC cannot even call it
REVOKE EXECUTE ON FUNCTION dbkit_purge_audit(interval) FROM dbkit_hyg_user;
SET ROLE dbkit_hyg_user;
SELECT dbkit_purge_audit('0');
RESET ROLE;

-- A role without any privilege fires the audit (ALTER DEFAULT PRIVILEGES for itself);
-- one query string of 300 KB running 50 such commands keeps its text once, cut at
-- 64 kB; the other rows name that row (they kept 50 copies, 15 MB, before).
TRUNCATE dbkit.ddl_audit;
SET SESSION AUTHORIZATION dbkit_hyg_user;
SELECT format('DO $do$ BEGIN FOR i IN 1..50 LOOP EXECUTE %L; END LOOP; END $do$ /* %s */',
              'ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC', repeat('padding ', 40000)) AS big \gset
:big;
RESET SESSION AUTHORIZATION;
SELECT count(*) AS rows, sum(length(statement)) < 70000 AS text_kept_once,
       count(*) FILTER (WHERE statement LIKE 'DO $do$%' AND statement LIKE '%-- [dbkit: the statement is cut here, at 65536 of its 320% bytes]') AS cut,
       count(*) FILTER (WHERE statement = '(the statement of dbkit.ddl_audit row ' || (SELECT min(id) FROM dbkit.ddl_audit) || ')') AS naming_it
  FROM dbkit.ddl_audit;
-- a short statement is written in every row of its query string
SET SESSION AUTHORIZATION dbkit_hyg_user;
DO $do$ BEGIN EXECUTE 'ALTER DEFAULT PRIVILEGES REVOKE SELECT ON TABLES FROM PUBLIC'; EXECUTE 'ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC'; END $do$;
RESET SESSION AUTHORIZATION;
SELECT count(*) AS rows, count(DISTINCT statement) AS texts FROM dbkit.ddl_audit WHERE statement LIKE 'DO $do$ BEGIN EXECUTE%';
ALTER DEFAULT PRIVILEGES FOR ROLE dbkit_hyg_user REVOKE SELECT ON TABLES FROM PUBLIC;

-- A statement that may hold a password is not kept (an attack: the audit, readable by
-- pg_monitor and deployers, held user mappings' and subscriptions' passwords, which
-- PostgreSQL hides from them); in a query string, none of its commands' rows keeps it.
TRUNCATE dbkit.ddl_audit;
CREATE FOREIGN DATA WRAPPER hyg_fdw;
CREATE SERVER hyg_server FOREIGN DATA WRAPPER hyg_fdw OPTIONS (host 'billing.internal');
CREATE USER MAPPING FOR CURRENT_USER SERVER hyg_server OPTIONS (user 'ro', password 'S3cr3t-Pa55');
ALTER USER MAPPING FOR CURRENT_USER SERVER hyg_server OPTIONS (SET password 'N3w-S3cr3t');
CREATE TABLE hyg_pw (id int) \; CREATE ROLE hyg_pw_role PASSWORD 'R0le-S3cr3t' \; DROP ROLE hyg_pw_role;
CREATE TABLE hyg_plain ("password" text);
SELECT command_tag, statement LIKE '-- [dbkit: the statement''s text is not kept: %' AS withheld,
       statement ~* 's3cr3t' AS leaks
  FROM dbkit.ddl_audit ORDER BY id;
DROP USER MAPPING FOR CURRENT_USER SERVER hyg_server;
DROP SERVER hyg_server;
DROP FOREIGN DATA WRAPPER hyg_fdw;

\c postgres
DROP DATABASE dbkit_audit_hyg;
DROP ROLE dbkit_hyg_user;
