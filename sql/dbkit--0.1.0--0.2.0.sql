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

------------------------------------------------------------------------------
-- Issue 17 item 2, issue 11 item 5: who may call what
------------------------------------------------------------------------------

-- Functions that write dbkit's state, or run a folder's SQL (the dry run does,
-- then rolls back), are not for PUBLIC: a deployer gets them with
-- dbkit_grant_deployer(role). The read functions (dbkit_status, dbkit_drift,
-- dbkit_drift_code, dbkit_validate, dbkit_snapshot, dbkit_lint,
-- dbkit_lint_folder) stay callable by every role; what they read is granted to
-- pg_monitor.
REVOKE EXECUTE ON FUNCTION @extschema@.dbkit_apply(jsonb, jsonb) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION dbkit._repair(text, jsonb, text, text, jsonb) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.dbkit_mark_applied(jsonb, text, text, jsonb) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.dbkit_baseline(jsonb, text, text, jsonb) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.dbkit_forget(text, text, jsonb) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.dbkit_accept_change(jsonb, text, text, jsonb) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.dbkit_accept_drift(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.dbkit_nontx_start(jsonb, text, jsonb) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.dbkit_nontx_step(text, integer, boolean, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.dbkit_nontx_finish(jsonb, text, jsonb) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.dbkit_dry_run(jsonb, jsonb) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.dbkit_nontx_statement(text, integer, text, text) FROM PUBLIC;

-- Everything a role that is not superuser needs to deploy with dbkit: USAGE on
-- dbkit's schemas, its tables and sequences, EXECUTE on the functions above, and
-- drizzle's table (its schema is created, owned by the caller, when absent, so
-- the deployer needs no CREATE on the database). Run by a superuser (or the
-- extension's owner). Revoke with REVOKE ... FROM role, or DROP ROLE.
CREATE FUNCTION @extschema@.dbkit_grant_deployer(role regrole, drizzle_schema name DEFAULT 'drizzle',
                                                  drizzle_table name DEFAULT '__drizzle_migrations')
RETURNS SETOF text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    stmt text;
    rel regclass;
    seq regclass;
    stmts text[] := ARRAY[
        format('GRANT USAGE ON SCHEMA dbkit, %s TO %s', '@extschema@', role),
        format('GRANT SELECT, INSERT, UPDATE, DELETE ON dbkit.migrations, dbkit.events, dbkit.snapshots, dbkit.progress TO %s', role),
        format('GRANT SELECT ON dbkit.ddl_audit TO %s', role),
        format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA dbkit TO %s', role)];
BEGIN
    IF role IS NULL THEN
        RAISE EXCEPTION 'dbkit_grant_deployer: the role is null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    FOREACH stmt IN ARRAY ARRAY['dbkit_apply(jsonb, jsonb)', 'dbkit._repair(text, jsonb, text, text, jsonb)',
            'dbkit_mark_applied(jsonb, text, text, jsonb)', 'dbkit_baseline(jsonb, text, text, jsonb)',
            'dbkit_forget(text, text, jsonb)', 'dbkit_accept_change(jsonb, text, text, jsonb)',
            'dbkit_accept_drift(text)', 'dbkit_nontx_start(jsonb, text, jsonb)',
            'dbkit_nontx_step(text, integer, boolean, text)', 'dbkit_nontx_finish(jsonb, text, jsonb)',
            'dbkit_dry_run(jsonb, jsonb)', 'dbkit_nontx_statement(text, integer, text, text)'] LOOP
        stmts := stmts || format('GRANT EXECUTE ON FUNCTION %s TO %s',
            CASE WHEN stmt LIKE 'dbkit.%' THEN stmt ELSE format('%s.%s', '@extschema@', stmt) END, role);
    END LOOP;
    IF drizzle_schema IS NOT NULL THEN
        IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = drizzle_schema) THEN
            stmts := stmts || format('CREATE SCHEMA %I', drizzle_schema);
        END IF;
        stmts := stmts || format('GRANT USAGE ON SCHEMA %I TO %s', drizzle_schema, role);
        SELECT c.oid INTO rel FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = drizzle_schema AND c.relname = drizzle_table;
        IF rel IS NULL THEN
            -- the deployer creates drizzle's table on its first run, and owns it
            stmts := stmts || format('GRANT CREATE ON SCHEMA %I TO %s', drizzle_schema, role);
        ELSE
            stmts := stmts || format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO %s', rel, role);
            FOR seq IN SELECT d.objid::regclass FROM pg_depend d JOIN pg_class s ON s.oid = d.objid
                        WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
                          AND d.refobjid = rel AND s.relkind = 'S' LOOP
                stmts := stmts || format('GRANT USAGE, SELECT ON SEQUENCE %s TO %s', seq, role);
            END LOOP;
        END IF;
    END IF;
    FOREACH stmt IN ARRAY stmts LOOP
        EXECUTE stmt;
        RETURN NEXT stmt;
    END LOOP;
END
$$;
REVOKE EXECUTE ON FUNCTION @extschema@.dbkit_grant_deployer(regrole, name, name) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.dbkit_grant_deployer(regrole, name, name) IS
    'Grant a role what it needs to deploy with dbkit (dbkit''s tables and write functions, drizzle''s table); returns the statements run';

-- Every role that is not superuser and can CREATE in the extension's schema can
-- add overloads of dbkit's functions there: a person's own unqualified call
-- (SELECT * FROM dbkit_status('...')) may then run their function, and an
-- overload with a defaulted extra argument makes every call ambiguous (42725).
DO $$
DECLARE
    who text;
BEGIN
    SELECT string_agg(x, ', ' ORDER BY x) INTO who FROM (
        SELECT quote_ident(r.rolname) AS x FROM pg_roles r
         WHERE NOT r.rolsuper AND r.rolname <> current_user AND r.rolname !~ '^pg_'
           AND has_schema_privilege(r.oid, '@extschema@'::regnamespace, 'CREATE')
        UNION ALL
        SELECT 'PUBLIC' FROM pg_namespace n, aclexplode(n.nspacl) a
         WHERE n.oid = '@extschema@'::regnamespace AND a.grantee = 0 AND a.privilege_type = 'CREATE') w;
    IF who IS NOT NULL THEN
        RAISE WARNING 'dbkit: roles other than superusers can CREATE in schema %, where dbkit''s functions are: %', '@extschema@', who
            USING DETAIL = 'They can add functions named like dbkit''s (dbkit_apply, dbkit_status, ...) that calls typed by hand resolve to, running their code with your rights, or that make dbkit''s calls ambiguous.',
                  HINT = format('Install dbkit into a schema only its owner can create in: DROP EXTENSION dbkit; CREATE SCHEMA dbkit_api; CREATE EXTENSION dbkit SCHEMA dbkit_api; or REVOKE CREATE ON SCHEMA %s FROM %s.', '@extschema@', who);
    END IF;
END
$$;
