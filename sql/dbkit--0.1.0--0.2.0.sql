-- dbkit 0.1.0 -> 0.2.0. sql/dbkit--0.1.0.sql is released and frozen: every change to
-- dbkit's SQL objects since then lives here (and in later upgrade scripts), so that
-- ALTER EXTENSION dbkit UPDATE keeps a database's history, snapshots and audit.
-- A fresh CREATE EXTENSION runs 0.1.0 and then this script: fresh and upgraded
-- installs are built by the same statements.
\echo Use "ALTER EXTENSION dbkit UPDATE TO '0.2.0'" to load this file. \quit


------------------------------------------------------------------------------
-- Issue 16, items 3 and 4: dbkit's deploy lock
------------------------------------------------------------------------------
-- An advisory lock tag no SQL function can produce (its fourth field is dbkit's,
-- not pg_advisory_lock's 1 or 2), taken only by dbkit's code and only for a role
-- that may write dbkit.migrations. The client takes it first with CALL, which
-- commits before waiting, so a waiting deploy holds no snapshot (a running
-- CREATE INDEX CONCURRENTLY never waits for it); dbkit_apply and the repairs still
-- take it for their transaction, as the guard. wait_ms bounds the wait (0: do not
-- wait); when it runs out the error names the holder.
CREATE PROCEDURE @extschema@.dbkit_deploy_lock(wait_ms bigint DEFAULT 600000)
AS 'MODULE_PATHNAME', 'dbkit_deploy_lock' LANGUAGE C;
COMMENT ON PROCEDURE @extschema@.dbkit_deploy_lock(bigint) IS
    'Wait (at most wait_ms) for dbkit''s deploy lock and hold it until the session ends; call it outside a transaction block';
CREATE FUNCTION @extschema@.dbkit_deploy_unlock() RETURNS boolean
AS 'MODULE_PATHNAME', 'dbkit_deploy_unlock' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.dbkit_deploy_unlock() IS
    'Release the deploy lock this session took with CALL dbkit_deploy_lock()';
CREATE FUNCTION @extschema@.dbkit_deploy_lock_holder() RETURNS text
AS 'MODULE_PATHNAME', 'dbkit_deploy_lock_holder' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.dbkit_deploy_lock_holder() IS
    'The sessions holding dbkit''s deploy lock (pid, user, application, since when), or NULL when it is free';
