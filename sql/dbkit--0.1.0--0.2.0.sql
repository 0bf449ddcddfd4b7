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
-- invalid index before building it again, and check the index after (phase 'done':
-- and record the step). The timeouts, given before a statement, are set for the session.
CREATE FUNCTION @extschema@.dbkit_nontx_statement(tag text, statement integer, sql text, phase text,
                                                  lock_timeout_ms bigint DEFAULT NULL,
                                                  statement_timeout_ms bigint DEFAULT NULL)
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
REVOKE EXECUTE ON FUNCTION @extschema@.dbkit_nontx_statement(text, integer, text, text, bigint, bigint) FROM PUBLIC;

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
        format('GRANT SELECT, INSERT, UPDATE, DELETE ON dbkit.migrations, dbkit.events, dbkit.snapshots, dbkit.progress, dbkit.code_schemas, dbkit.code_drift_results, dbkit.status_results TO %s', role),
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
            'dbkit_dry_run(jsonb, jsonb)', 'dbkit_nontx_statement(text, integer, text, text, bigint, bigint)',
            'dbkit_rollback(jsonb, jsonb)', 'dbkit_push(text, jsonb)', 'dbkit_rehearse(jsonb, jsonb)',
            'dbkit_rollback_nontx_start(jsonb, text, jsonb)', 'dbkit_rollback_nontx_finish(jsonb, text, jsonb)'] LOOP
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
-- Code that runs here, at the script's top level, runs as the installing superuser
-- with search_path set to the schema dbkit goes into, where other roles may be able
-- to create: an overload there that matches the argument types more closely than
-- pg_catalog's (public.quote_ident(name)) would run with those rights. So each
-- DO block pins the path to pg_catalog while it runs, and other top-level calls
-- are qualified.
DO $$
DECLARE
    who text;
    saved text := pg_catalog.current_setting('search_path');
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
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
    PERFORM pg_catalog.set_config('search_path', saved, true);
END
$$;

------------------------------------------------------------------------------
-- issue 16 item 6, issue 17 item 11: what drift sees (snapshot format 2), and
-- the DDL audit's retention
------------------------------------------------------------------------------

-- Privileges as sorted text ("grantee=privileges/grantor", PUBLIC spelled out);
-- a NULL acl (never granted or revoked) is shown as the defaults it stands for.
CREATE FUNCTION dbkit._acl(acl aclitem[], objtype "char", owner oid)
RETURNS jsonb
LANGUAGE sql STABLE
AS $$
SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.regexp_replace(x::text, '^=', 'PUBLIC=') ORDER BY x::text), '[]')
  FROM pg_catalog.unnest(coalesce(acl, pg_catalog.acldefault(objtype, owner))) x
$$;

-- Snapshot format 2. Beyond 0.1.0's: owners and privileges (schemas, tables,
-- columns, views, sequences, functions, types), view and materialized view
-- options (security_invoker, check_option, ...), replica identity, rules,
-- aggregates, operators, casts, publications, event triggers and default
-- privileges; and every schema but PostgreSQL's and dbkit's, `drizzle` included:
-- only drizzle's migrations table named here (with the sequences it owns) is
-- left out. The key "dbkit:format" records the format and that table.
--
-- The one definition of what a snapshot entry is (a deploy also re-reads its entries
-- per object, issue 14 item 1 below): every entry with the object it
-- belongs to (objid) and, for the parts of a table (constraints, indexes,
-- triggers, policies, rules), that table (relid). objects NULL: the whole schema;
-- else only the entries of those objects (a table brings all its parts).
CREATE FUNCTION dbkit.snapshot_entries(drizzle_schema text, drizzle_table text, objects oid[])
RETURNS TABLE (key text, value jsonb, objid oid, relid oid)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET DateStyle = 'ISO, YMD'
SET IntervalStyle = 'postgres'
SET TimeZone = 'UTC'
SET extra_float_digits = 1
-- what pg_get_expr and quote_ident print must not depend on the reading session (a DDL by
-- any role may run the re-read: dbkit_settle_ddl)
SET standard_conforming_strings = on
SET quote_all_identifiers = off
SET bytea_output = hex
-- planned for the arguments of each call: with a list of objects every catalog is
-- reached through its oid index, not scanned (a generic plan cannot drop the
-- "objects IS NULL OR" branch)
SET plan_cache_mode = force_custom_plan
AS $$
#variable_conflict use_column
DECLARE
    every boolean := objects IS NULL;
BEGIN
-- One statement per group of catalogs, run only when the list names an object of
-- that group (every group for the whole schema): a deploy touching a table plans
-- the relations' statement alone.
-- relations and their parts, schemas (and the format when reading the whole schema)
IF every OR EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = ANY (objects))
   OR EXISTS (SELECT 1 FROM pg_namespace n WHERE n.oid = ANY (objects)) THEN
RETURN QUERY
WITH dz AS (
    -- drizzle's migrations table the runs are configured with, and the sequences it owns
    SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = drizzle_schema AND c.relname = drizzle_table
    UNION ALL
    SELECT d.objid FROM pg_depend d JOIN pg_class c ON c.oid = d.refobjid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
       AND n.nspname = drizzle_schema AND c.relname = drizzle_table
), ns AS (
    SELECT n.oid, n.nspname, n.nspowner, n.nspacl FROM pg_namespace n
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'dbkit')
       AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
       AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_namespace'::regclass AND x.objid = n.oid AND x.objsubid = 0 AND x.deptype = 'e')
), rel AS (
    SELECT c.oid, c.relname, c.relkind, ns.nspname, format('%I.%I', ns.nspname, c.relname) AS qname,
           c.relpersistence, c.relispartition, c.relpartbound, c.relrowsecurity, c.relforcerowsecurity, c.reloptions,
           c.relowner, c.relacl, c.relreplident, c.reltype
      FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S', 'c')
       AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_class'::regclass AND x.objid = c.oid AND x.objsubid = 0 AND x.deptype = 'e')
       AND c.oid NOT IN (SELECT oid FROM dz)
       AND (objects IS NULL OR c.oid = ANY (objects))
)
SELECT * FROM (
    SELECT 'dbkit:format', jsonb_build_object('version', 2, 'drizzle_schema', drizzle_schema, 'drizzle_table', drizzle_table), NULL::oid, NULL::oid
     WHERE objects IS NULL
    UNION ALL
    SELECT 'schema:' || quote_ident(ns.nspname),
           jsonb_build_object('owner', pg_get_userbyid(ns.nspowner), 'acl', dbkit._acl(ns.nspacl, 'n', ns.nspowner))
               || jsonb_strip_nulls(jsonb_build_object('comment', ds.description)), ns.oid, NULL::oid
      FROM ns LEFT JOIN pg_description ds ON ds.objoid = ns.oid AND ds.classoid = 'pg_namespace'::regclass AND ds.objsubid = 0
     WHERE (objects IS NULL OR ns.oid = ANY (objects))
    UNION ALL
    SELECT 'table:' || r.qname,
           jsonb_strip_nulls(jsonb_build_object(
               'kind', CASE r.relkind WHEN 'p' THEN 'partitioned' WHEN 'f' THEN 'foreign' ELSE 'table' END,
               'unlogged', CASE WHEN r.relpersistence = 'u' THEN true END,
               'partition_key', CASE WHEN r.relkind = 'p' THEN pg_get_partkeydef(r.oid) END,
               'partition_of', (SELECT format('%I.%I', pn.nspname, p.relname) FROM pg_inherits i
                                  JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace
                                 WHERE i.inhrelid = r.oid AND r.relispartition),
               'partition_bound', CASE WHEN r.relispartition THEN pg_get_expr(r.relpartbound, r.oid) END,
               'inherits', (SELECT jsonb_agg(format('%I.%I', pn.nspname, p.relname) ORDER BY i.inhseqno) FROM pg_inherits i
                              JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace
                             WHERE i.inhrelid = r.oid AND NOT r.relispartition),
               'row_security', CASE WHEN r.relrowsecurity THEN true END,
               'force_row_security', CASE WHEN r.relforcerowsecurity THEN true END,
               'options', to_jsonb(r.reloptions),
               'owner', pg_get_userbyid(r.relowner),
               'acl', dbkit._acl(r.relacl, 'r', r.relowner),
               'replica_identity', CASE r.relreplident WHEN 'f' THEN 'full' WHEN 'n' THEN 'nothing'
                                   WHEN 'i' THEN (SELECT 'index ' || quote_ident(ic.relname) FROM pg_index i
                                                    JOIN pg_class ic ON ic.oid = i.indexrelid
                                                   WHERE i.indrelid = r.oid AND i.indisreplident) END,
               'comment', ds.description)), r.oid, NULL::oid
      FROM rel r LEFT JOIN pg_description ds ON ds.objoid = r.oid AND ds.classoid = 'pg_class'::regclass AND ds.objsubid = 0
     WHERE r.relkind IN ('r', 'p', 'f')
    UNION ALL
    SELECT 'column:' || r.qname || '.' || quote_ident(a.attname),
           jsonb_strip_nulls(jsonb_build_object(
               'position', row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum),
               'type', format_type(a.atttypid, a.atttypmod),
               'not_null', a.attnotnull,
               'default', CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END,
               'generated', CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END,
               'identity', CASE a.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by default' END,
               -- the identity's sequence options, and its name (in the table's schema: `sequence name`
               -- declares it; a table rename keeps the old one, which the diff renames)
               'identity_options', CASE WHEN a.attidentity <> '' THEN (
                   SELECT jsonb_build_object('start', s.seqstart, 'increment', s.seqincrement, 'min', s.seqmin,
                                             'max', s.seqmax, 'cache', s.seqcache, 'cycle', s.seqcycle,
                                             'sequence', quote_ident(sq.relname))
                     FROM pg_depend sd JOIN pg_sequence s ON s.seqrelid = sd.objid JOIN pg_class sq ON sq.oid = s.seqrelid
                    WHERE sd.refclassid = 'pg_class'::regclass AND sd.refobjid = a.attrelid AND sd.refobjsubid = a.attnum
                      AND sd.classid = 'pg_class'::regclass AND sd.deptype = 'i') END,
               'collation', CASE WHEN a.attcollation <> t.typcollation
                                 THEN (SELECT format('%I.%I', cn.nspname, co.collname) FROM pg_collation co
                                         JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation) END,
               'acl', CASE WHEN cardinality(a.attacl) > 0 THEN dbkit._acl(a.attacl, 'c', r.relowner) END,
               'comment', ds.description)), r.oid, NULL::oid
      FROM rel r
      JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
      JOIN pg_type t ON t.oid = a.atttypid
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      LEFT JOIN pg_description ds ON ds.objoid = a.attrelid AND ds.classoid = 'pg_class'::regclass AND ds.objsubid = a.attnum
     WHERE r.relkind IN ('r', 'p', 'f')
    UNION ALL
    SELECT 'constraint:' || r.qname || '.' || quote_ident(co.conname),
           jsonb_build_object('type', CASE co.contype WHEN 'p' THEN 'primary key' WHEN 'u' THEN 'unique'
                                      WHEN 'f' THEN 'foreign key' WHEN 'c' THEN 'check' WHEN 'x' THEN 'exclusion'
                                      WHEN 't' THEN 'trigger' ELSE co.contype::text END,
                              'definition', pg_get_constraintdef(co.oid, true))
               || jsonb_strip_nulls(jsonb_build_object('comment', ds.description)), co.oid, r.oid
      FROM pg_constraint co JOIN rel r ON r.oid = co.conrelid
      LEFT JOIN pg_description ds ON ds.objoid = co.oid AND ds.classoid = 'pg_constraint'::regclass AND ds.objsubid = 0
     WHERE r.relkind IN ('r', 'p', 'f')
    UNION ALL
    SELECT 'index:' || format('%I.%I', ns.nspname, ic.relname),
           jsonb_strip_nulls(jsonb_build_object('table', r.qname, 'definition', pg_get_indexdef(i.indexrelid),
                                                'invalid', CASE WHEN NOT i.indisvalid THEN true END,
                                                'comment', ds.description)), i.indexrelid, r.oid
      FROM pg_index i JOIN rel r ON r.oid = i.indrelid
      JOIN pg_class ic ON ic.oid = i.indexrelid JOIN ns ON ns.oid = ic.relnamespace
      LEFT JOIN pg_description ds ON ds.objoid = i.indexrelid AND ds.classoid = 'pg_class'::regclass AND ds.objsubid = 0
    UNION ALL
    SELECT 'sequence:' || r.qname,
           jsonb_build_object('type', format_type(s.seqtypid, NULL), 'start', s.seqstart, 'increment', s.seqincrement,
                              'min', s.seqmin, 'max', s.seqmax, 'cache', s.seqcache, 'cycle', s.seqcycle,
                              'owner', pg_get_userbyid(r.relowner), 'acl', dbkit._acl(r.relacl, 's', r.relowner))
               || jsonb_strip_nulls(jsonb_build_object(
                      'comment', ds.description,
                      -- ALTER SEQUENCE ... OWNED BY (a serial's): dropping the column drops the sequence
                      'owned_by', (SELECT format('%I.%I.%I', odn.nspname, odc.relname, oda.attname)
                                     FROM pg_depend od JOIN pg_class odc ON odc.oid = od.refobjid
                                     JOIN pg_namespace odn ON odn.oid = odc.relnamespace
                                     JOIN pg_attribute oda ON oda.attrelid = od.refobjid AND oda.attnum = od.refobjsubid
                                    WHERE od.classid = 'pg_class'::regclass AND od.objid = r.oid AND od.objsubid = 0
                                      AND od.refclassid = 'pg_class'::regclass AND od.deptype = 'a'
                                      AND od.refobjsubid > 0))), r.oid, NULL::oid
      FROM rel r JOIN pg_sequence s ON s.seqrelid = r.oid
      LEFT JOIN pg_description ds ON ds.objoid = r.oid AND ds.classoid = 'pg_class'::regclass AND ds.objsubid = 0
     WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = r.oid
                          AND d.deptype = 'i')
    UNION ALL
    SELECT CASE r.relkind WHEN 'v' THEN 'view:' ELSE 'materialized_view:' END || r.qname,
           jsonb_strip_nulls(jsonb_build_object(
               'definition', pg_get_viewdef(r.oid, true),
               'options', to_jsonb(r.reloptions),   -- security_invoker, security_barrier, check_option, storage
               'owner', pg_get_userbyid(r.relowner),
               'acl', dbkit._acl(r.relacl, 'r', r.relowner),
               'comment', ds.description,
               -- COMMENT ON COLUMN of a view's columns (a view has no column entries)
               'column_comments', (SELECT jsonb_object_agg(quote_ident(ca.attname), cd.description)
                                     FROM pg_description cd
                                     JOIN pg_attribute ca ON ca.attrelid = cd.objoid AND ca.attnum = cd.objsubid
                                    WHERE cd.objoid = r.oid AND cd.classoid = 'pg_class'::regclass AND cd.objsubid > 0),
               -- what its query reads, from pg_depend: tables and views ("s.t"), their columns
               -- ("s.t.c") and functions ("s.f(integer)"), built-in ones left out; the diff
               -- drops and creates it again only when one of those changes
               'depends_on', coalesce((SELECT jsonb_agg(x ORDER BY x) FROM (
                   SELECT DISTINCT CASE WHEN d.refclassid = 'pg_class'::regclass
                                        THEN format('%I.%I', dn.nspname, dc.relname)
                                             || CASE WHEN d.refobjsubid > 0 THEN '.' || quote_ident(da.attname) ELSE '' END
                                        ELSE (pg_identify_object(d.refclassid, d.refobjid, 0)).identity END
                     FROM pg_rewrite rw
                     JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = rw.oid AND d.deptype = 'n'
                     LEFT JOIN pg_class dc ON d.refclassid = 'pg_class'::regclass AND dc.oid = d.refobjid
                     LEFT JOIN pg_namespace dn ON dn.oid = dc.relnamespace
                     LEFT JOIN pg_attribute da ON da.attrelid = dc.oid AND da.attnum = d.refobjsubid AND d.refobjsubid > 0
                    WHERE rw.ev_class = r.oid AND d.refobjid >= 16384 AND d.refobjid <> r.oid
                      AND d.refclassid IN ('pg_class'::regclass, 'pg_proc'::regclass)) y(x)), '[]'::jsonb))), r.oid, NULL::oid
      FROM rel r LEFT JOIN pg_description ds ON ds.objoid = r.oid AND ds.classoid = 'pg_class'::regclass AND ds.objsubid = 0
     WHERE r.relkind IN ('v', 'm')
    UNION ALL
    SELECT 'trigger:' || r.qname || '.' || quote_ident(tg.tgname),
           jsonb_build_object('definition', pg_get_triggerdef(tg.oid, true), 'enabled', tg.tgenabled::text)
               || jsonb_strip_nulls(jsonb_build_object('comment', ds.description)), tg.oid, r.oid
      FROM pg_trigger tg JOIN rel r ON r.oid = tg.tgrelid
      LEFT JOIN pg_description ds ON ds.objoid = tg.oid AND ds.classoid = 'pg_trigger'::regclass AND ds.objsubid = 0
     WHERE NOT tg.tgisinternal AND tg.tgparentid = 0
    UNION ALL
    SELECT 'type:' || r.qname,
           jsonb_build_object('attributes', (SELECT jsonb_agg(jsonb_build_array(a.attname, format_type(a.atttypid, a.atttypmod))
                                                               ORDER BY a.attnum)
                                               FROM pg_attribute a WHERE a.attrelid = r.oid AND a.attnum > 0
                                                AND NOT a.attisdropped),
                              'owner', pg_get_userbyid(r.relowner))
               || jsonb_strip_nulls(jsonb_build_object('comment', ds.description)), r.oid, NULL::oid
      FROM rel r LEFT JOIN pg_description ds ON ds.objoid = r.reltype AND ds.classoid = 'pg_type'::regclass AND ds.objsubid = 0
     WHERE r.relkind = 'c'
    UNION ALL
    SELECT 'policy:' || r.qname || '.' || quote_ident(pol.polname),
           jsonb_strip_nulls(jsonb_build_object(
               'command', CASE pol.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                                          WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
               'permissive', pol.polpermissive,
               'roles', (SELECT jsonb_agg(CASE WHEN x = 0 THEN 'public' ELSE (SELECT rolname FROM pg_roles WHERE oid = x) END
                                          ORDER BY 1) FROM unnest(pol.polroles) x),
               'using', pg_get_expr(pol.polqual, pol.polrelid),
               'with_check', pg_get_expr(pol.polwithcheck, pol.polrelid),
               'comment', ds.description)), pol.oid, r.oid
      FROM pg_policy pol JOIN rel r ON r.oid = pol.polrelid
      LEFT JOIN pg_description ds ON ds.objoid = pol.oid AND ds.classoid = 'pg_policy'::regclass AND ds.objsubid = 0
    UNION ALL
    -- rules other than a view's own _RETURN (CREATE RULE ... DO INSTEAD NOTHING swallows writes)
    SELECT 'rule:' || r.qname || '.' || quote_ident(rw.rulename),
           jsonb_build_object('event', CASE rw.ev_type WHEN '1' THEN 'SELECT' WHEN '2' THEN 'UPDATE' WHEN '3' THEN 'INSERT'
                                                       WHEN '4' THEN 'DELETE' ELSE rw.ev_type::text END,
                              'instead', rw.is_instead, 'enabled', rw.ev_enabled::text,
                              'definition', pg_get_ruledef(rw.oid, true)), rw.oid, r.oid
      FROM pg_rewrite rw JOIN rel r ON r.oid = rw.ev_class
     WHERE rw.rulename <> '_RETURN'
) item(key, value, objid, relid);
END IF;
-- functions, procedures, aggregates
IF every OR EXISTS (SELECT 1 FROM pg_proc p WHERE p.oid = ANY (objects)) THEN
RETURN QUERY
WITH ns AS (
    SELECT n.oid, n.nspname, n.nspowner, n.nspacl FROM pg_namespace n
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'dbkit')
       AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
       AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_namespace'::regclass AND x.objid = n.oid AND x.objsubid = 0 AND x.deptype = 'e')
)
SELECT * FROM (
    SELECT CASE p.prokind WHEN 'p' THEN 'procedure:' ELSE 'function:' END
               || (pg_identify_object('pg_proc'::regclass, p.oid, 0)).identity,
           jsonb_build_object('definition', pg_get_functiondef(p.oid),
                              'owner', pg_get_userbyid(p.proowner), 'acl', dbkit._acl(p.proacl, 'f', p.proowner))
               || jsonb_strip_nulls(jsonb_build_object('comment', ds.description)), p.oid, NULL::oid
      FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
      LEFT JOIN pg_description ds ON ds.objoid = p.oid AND ds.classoid = 'pg_proc'::regclass AND ds.objsubid = 0
     WHERE p.prokind IN ('f', 'p', 'w')
       AND (objects IS NULL OR p.oid = ANY (objects))
       AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_proc'::regclass AND x.objid = p.oid AND x.objsubid = 0 AND x.deptype = 'e')
    UNION ALL
    SELECT 'aggregate:' || (pg_identify_object('pg_proc'::regclass, p.oid, 0)).identity,
           jsonb_strip_nulls(jsonb_build_object(
               'kind', CASE ag.aggkind WHEN 'n' THEN 'normal' WHEN 'o' THEN 'ordered-set' ELSE 'hypothetical-set' END,
               'sfunc', ag.aggtransfn::regprocedure::text, 'stype', format_type(ag.aggtranstype, NULL),
               'finalfunc', nullif(ag.aggfinalfn, 0)::regprocedure::text,
               'combinefunc', nullif(ag.aggcombinefn, 0)::regprocedure::text,
               'msfunc', nullif(ag.aggmtransfn, 0)::regprocedure::text,
               'initcond', ag.agginitval, 'sortop', nullif(ag.aggsortop, 0)::regoperator::text,
               'owner', pg_get_userbyid(p.proowner), 'acl', dbkit._acl(p.proacl, 'f', p.proowner))), p.oid, NULL::oid
      FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace JOIN pg_aggregate ag ON ag.aggfnoid = p.oid
     WHERE p.prokind = 'a'
       AND (objects IS NULL OR p.oid = ANY (objects))
       AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_proc'::regclass AND x.objid = p.oid AND x.objsubid = 0 AND x.deptype = 'e')
) item(key, value, objid, relid);
END IF;
-- enums and domains
IF every OR EXISTS (SELECT 1 FROM pg_type t WHERE t.oid = ANY (objects) AND t.typtype IN ('e', 'd')) THEN
RETURN QUERY
WITH ns AS (
    SELECT n.oid, n.nspname, n.nspowner, n.nspacl FROM pg_namespace n
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'dbkit')
       AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
       AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_namespace'::regclass AND x.objid = n.oid AND x.objsubid = 0 AND x.deptype = 'e')
)
SELECT * FROM (
    SELECT 'enum:' || format('%I.%I', ns.nspname, t.typname),
           jsonb_build_object('labels', (SELECT jsonb_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e
                                          WHERE e.enumtypid = t.oid),
                              'owner', pg_get_userbyid(t.typowner), 'acl', dbkit._acl(t.typacl, 'T', t.typowner))
               || jsonb_strip_nulls(jsonb_build_object('comment', ds.description)), t.oid, NULL::oid
      FROM pg_type t JOIN ns ON ns.oid = t.typnamespace
      LEFT JOIN pg_description ds ON ds.objoid = t.oid AND ds.classoid = 'pg_type'::regclass AND ds.objsubid = 0
     WHERE t.typtype = 'e'
       AND (objects IS NULL OR t.oid = ANY (objects))
       AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_type'::regclass AND x.objid = t.oid AND x.objsubid = 0 AND x.deptype = 'e')
    UNION ALL
    SELECT 'domain:' || format('%I.%I', ns.nspname, t.typname),
           jsonb_strip_nulls(jsonb_build_object(
               'type', format_type(t.typbasetype, t.typtypmod), 'not_null', t.typnotnull, 'default', t.typdefault,
               'constraints', (SELECT jsonb_object_agg(c.conname, pg_get_constraintdef(c.oid, true))
                                 FROM pg_constraint c WHERE c.contypid = t.oid),
               'owner', pg_get_userbyid(t.typowner), 'acl', dbkit._acl(t.typacl, 'T', t.typowner),
               'comment', ds.description)), t.oid, NULL::oid
      FROM pg_type t JOIN ns ON ns.oid = t.typnamespace
      LEFT JOIN pg_description ds ON ds.objoid = t.oid AND ds.classoid = 'pg_type'::regclass AND ds.objsubid = 0
     WHERE t.typtype = 'd'
       AND (objects IS NULL OR t.oid = ANY (objects))
       AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_type'::regclass AND x.objid = t.oid AND x.objsubid = 0 AND x.deptype = 'e')
) item(key, value, objid, relid);
END IF;
-- extensions, operators, casts, publications, event triggers, default privileges
IF every OR EXISTS (SELECT 1 FROM pg_extension e WHERE e.oid = ANY (objects))
   OR EXISTS (SELECT 1 FROM pg_operator o WHERE o.oid = ANY (objects))
   OR EXISTS (SELECT 1 FROM pg_cast ca WHERE ca.oid = ANY (objects))
   OR EXISTS (SELECT 1 FROM pg_publication pub WHERE pub.oid = ANY (objects))
   OR EXISTS (SELECT 1 FROM pg_event_trigger et WHERE et.oid = ANY (objects))
   OR EXISTS (SELECT 1 FROM pg_default_acl da WHERE da.oid = ANY (objects)) THEN
RETURN QUERY
WITH ns AS (
    SELECT n.oid, n.nspname, n.nspowner, n.nspacl FROM pg_namespace n
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'dbkit')
       AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
       AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_namespace'::regclass AND x.objid = n.oid AND x.objsubid = 0 AND x.deptype = 'e')
)
SELECT * FROM (
    SELECT 'extension:' || quote_ident(e.extname),
           jsonb_build_object('version', e.extversion, 'schema', (SELECT nspname FROM pg_namespace WHERE oid = e.extnamespace)), e.oid, NULL::oid
      FROM pg_extension e WHERE e.extname <> 'dbkit'
       AND (objects IS NULL OR e.oid = ANY (objects))
    UNION ALL
    SELECT 'operator:' || (pg_identify_object('pg_operator'::regclass, o.oid, 0)).identity,
           jsonb_strip_nulls(jsonb_build_object(
               'function', o.oprcode::regprocedure::text,
               'commutator', nullif(o.oprcom, 0)::regoperator::text, 'negator', nullif(o.oprnegate, 0)::regoperator::text,
               'restrict', nullif(o.oprrest, 0)::regprocedure::text, 'join', nullif(o.oprjoin, 0)::regprocedure::text,
               'hashes', o.oprcanhash, 'merges', o.oprcanmerge, 'owner', pg_get_userbyid(o.oprowner))), o.oid, NULL::oid
      FROM pg_operator o JOIN ns ON ns.oid = o.oprnamespace
     WHERE (objects IS NULL OR o.oid = ANY (objects))
       AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_operator'::regclass AND x.objid = o.oid AND x.objsubid = 0 AND x.deptype = 'e')
    UNION ALL
    -- casts belong to no schema: the ones created after initdb, not by an extension
    SELECT 'cast:' || format('(%s AS %s)', format_type(ca.castsource, NULL), format_type(ca.casttarget, NULL)),
           jsonb_strip_nulls(jsonb_build_object(
               'function', nullif(ca.castfunc, 0)::regprocedure::text,
               'context', CASE ca.castcontext WHEN 'e' THEN 'explicit' WHEN 'a' THEN 'assignment' ELSE 'implicit' END,
               'method', CASE ca.castmethod WHEN 'f' THEN 'function' WHEN 'i' THEN 'inout' ELSE 'binary' END)), ca.oid, NULL::oid
      FROM pg_cast ca
     WHERE (objects IS NULL OR ca.oid = ANY (objects))
       AND ca.oid >= 16384
       AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_cast'::regclass AND x.objid = ca.oid AND x.objsubid = 0 AND x.deptype = 'e')
    UNION ALL
    SELECT 'publication:' || quote_ident(pub.pubname),
           jsonb_strip_nulls(jsonb_build_object(
               'owner', pg_get_userbyid(pub.pubowner), 'all_tables', pub.puballtables,
               'actions', concat_ws(', ', CASE WHEN pub.pubinsert THEN 'insert' END, CASE WHEN pub.pubupdate THEN 'update' END,
                                    CASE WHEN pub.pubdelete THEN 'delete' END, CASE WHEN pub.pubtruncate THEN 'truncate' END),
               'via_root', pub.pubviaroot,
               'tables', (SELECT jsonb_agg(format('%I.%I', pn.nspname, pc.relname)
                                           || coalesce(' (' || (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
                                                                  FROM pg_attribute a WHERE a.attrelid = pr.prrelid
                                                                   AND a.attnum = ANY (pr.prattrs::int2[])) || ')', '')
                                           || coalesce(' WHERE ' || pg_get_expr(pr.prqual, pr.prrelid), '')
                                           ORDER BY 1)
                            FROM pg_publication_rel pr JOIN pg_class pc ON pc.oid = pr.prrelid
                            JOIN pg_namespace pn ON pn.oid = pc.relnamespace WHERE pr.prpubid = pub.oid),
               'schemas', (SELECT jsonb_agg(quote_ident(pn.nspname) ORDER BY 1) FROM pg_publication_namespace pns
                             JOIN pg_namespace pn ON pn.oid = pns.pnnspid WHERE pns.pnpubid = pub.oid))), pub.oid, NULL::oid
      FROM pg_publication pub
     WHERE (objects IS NULL OR pub.oid = ANY (objects))
       AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_publication'::regclass AND x.objid = pub.oid AND x.objsubid = 0 AND x.deptype = 'e')
    UNION ALL
    -- event triggers run code on every DDL; dbkit's own audit triggers are listed too (disabling them shows)
    SELECT 'event_trigger:' || quote_ident(et.evtname),
           jsonb_strip_nulls(jsonb_build_object(
               'event', et.evtevent, 'function', et.evtfoid::regprocedure::text,
               'enabled', et.evtenabled::text, 'tags', to_jsonb(et.evttags), 'owner', pg_get_userbyid(et.evtowner))), et.oid, NULL::oid
      FROM pg_event_trigger et
     WHERE (objects IS NULL OR et.oid = ANY (objects))
       AND NOT EXISTS (SELECT 1 FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
                        WHERE d.classid = 'pg_event_trigger'::regclass AND d.objid = et.oid AND d.deptype = 'e'
                          AND e.extname <> 'dbkit')
    UNION ALL
    -- ALTER DEFAULT PRIVILEGES: what every future table, function, ... will grant
    SELECT 'default_privileges:' || quote_ident(pg_get_userbyid(da.defaclrole))
               || coalesce(' in ' || quote_ident(dn.nspname), '')
               || ' on ' || CASE da.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences' WHEN 'f' THEN 'functions'
                                                  WHEN 'T' THEN 'types' WHEN 'n' THEN 'schemas' ELSE da.defaclobjtype::text END,
           jsonb_build_object('acl', (SELECT jsonb_agg(regexp_replace(x::text, '^=', 'PUBLIC=') ORDER BY x::text)
                                        FROM unnest(da.defaclacl) x)), da.oid, NULL::oid
      FROM pg_default_acl da LEFT JOIN pg_namespace dn ON dn.oid = da.defaclnamespace
     WHERE (objects IS NULL OR da.oid = ANY (objects))
) item(key, value, objid, relid);
END IF;
END
$$;

-- The per-object read, for the calls that always name objects (a deploy's re-read,
-- a poll's dirty set). The same text with the "objects IS NULL" branches taken out,
-- made from snapshot_entries' own source so the two cannot differ, and planned
-- generically: without those branches every catalog is still reached through its oid
-- index, and a session that re-reads many times (non-transactional migrations, one
-- finish each) plans each statement once instead of at every call. A later upgrade
-- script that replaces snapshot_entries must run this block again (after DROP FUNCTION
-- dbkit._snapshot_entries_of), or the two differ.
DO $make$
DECLARE
    body text;
    saved text := pg_catalog.current_setting('search_path');
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);  -- see the first DO block
    SELECT p.prosrc INTO STRICT body FROM pg_catalog.pg_proc p
     WHERE p.oid = 'dbkit.snapshot_entries(text, text, oid[])'::pg_catalog.regprocedure;
    body := pg_catalog.replace(body, 'every boolean := objects IS NULL;', 'every boolean := false;');
    body := pg_catalog.replace(body, '(objects IS NULL OR ', '(');
    body := pg_catalog.replace(body, 'WHERE objects IS NULL', 'WHERE false');
    IF pg_catalog.strpos(body, 'objects IS NULL') > 0 THEN
        RAISE EXCEPTION 'dbkit: snapshot_entries has an "objects IS NULL" test _snapshot_entries_of does not take out';
    END IF;
    EXECUTE pg_catalog.format($f$
CREATE FUNCTION dbkit._snapshot_entries_of(drizzle_schema text, drizzle_table text, objects oid[])
RETURNS TABLE (key text, value jsonb, objid oid, relid oid)
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
SET DateStyle = 'ISO, YMD'
SET IntervalStyle = 'postgres'
SET TimeZone = 'UTC'
SET extra_float_digits = 1
-- what pg_get_expr and quote_ident print must not depend on the reading session (a DDL by
-- any role may run the re-read: dbkit_settle_ddl)
SET standard_conforming_strings = on
SET quote_all_identifiers = off
SET bytea_output = hex
SET plan_cache_mode = force_generic_plan
AS %L$f$, body);
    PERFORM pg_catalog.set_config('search_path', saved, true);
END
$make$;

-- The whole set of entries as one map.
CREATE FUNCTION dbkit.snapshot(drizzle_schema text, drizzle_table text)
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT coalesce(jsonb_object_agg(e.key, e.value), '{}'::jsonb) FROM dbkit.snapshot_entries(drizzle_schema, drizzle_table, NULL) e
$$;

-- The live schema, leaving out the drizzle table the newest reference left out
-- (drizzle.__drizzle_migrations when there is none, or it is a 0.1.0 one).
CREATE OR REPLACE FUNCTION dbkit.snapshot()
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT dbkit.snapshot(coalesce(f ->> 'drizzle_schema', 'drizzle'), coalesce(f ->> 'drizzle_table', '__drizzle_migrations'))
  FROM (SELECT (SELECT s.snapshot -> 'dbkit:format' FROM dbkit.snapshots s ORDER BY s.id DESC LIMIT 1) AS f) x
$$;

-- A format-2 snapshot as 0.1.0's dbkit.snapshot() would have described the same
-- schema: its kinds only, without the attributes added since, and without the
-- `drizzle` schema, which 0.1.0 left out whole.
CREATE FUNCTION dbkit._snapshot_as_v1(s jsonb)
RETURNS jsonb
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT coalesce(jsonb_object_agg(key, CASE WHEN split_part(key, ':', 1) IN ('view', 'materialized_view')
                                           THEN value - '{owner,acl,options,comment,column_comments,depends_on}'::text[]
                                           ELSE value - '{owner,acl,replica_identity,identity_options,comment,owned_by}'::text[] END), '{}'::jsonb)
  FROM jsonb_each(s)
 WHERE split_part(key, ':', 1) IN ('schema', 'table', 'column', 'constraint', 'index', 'sequence', 'view',
                                   'materialized_view', 'function', 'procedure', 'trigger', 'enum', 'domain', 'type',
                                   'extension', 'policy')
   AND key <> 'schema:drizzle'
   AND (split_part(key, ':', 1) = 'extension' OR substr(key, strpos(key, ':') + 1) NOT LIKE 'drizzle.%')
$$;

-- The live schema in the format of a stored reference, for comparing with it:
-- a 0.1.0 reference (no "dbkit:format") is compared only with what it could
-- describe, so an upgrade never reports every owner and privilege as drift.
CREATE FUNCTION dbkit._live_like(reference jsonb)
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE WHEN reference IS NULL OR reference ? 'dbkit:format'
            THEN dbkit.snapshot(coalesce(reference -> 'dbkit:format' ->> 'drizzle_schema', 'drizzle'),
                                coalesce(reference -> 'dbkit:format' ->> 'drizzle_table', '__drizzle_migrations'))
            ELSE dbkit._snapshot_as_v1(dbkit.snapshot('drizzle', '__drizzle_migrations')) END
$$;

-- The fingerprint also covers the catalogs format 2 reads (GRANT, ALTER ... OWNER
-- and REPLICA IDENTITY rewrite pg_class/pg_proc/pg_namespace/pg_type rows, which
-- it already covered), and comments.
CREATE OR REPLACE FUNCTION dbkit.catalog_fingerprint()
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT md5(string_agg(part, ',' ORDER BY part)) FROM (
    SELECT 'class' || count(*) || ':' || sum(hashtext(oid::text || ':' || xmin::text)) FROM pg_class
    UNION ALL SELECT 'attribute' || count(*) || ':' || sum(hashtext(attrelid::text || ':' || attnum || ':' || xmin::text)) FROM pg_attribute WHERE attnum > 0
    UNION ALL SELECT 'attrdef' || count(*) || ':' || sum(hashtext(oid::text || ':' || xmin::text)) FROM pg_attrdef
    UNION ALL SELECT 'constraint' || count(*) || ':' || sum(hashtext(oid::text || ':' || xmin::text)) FROM pg_constraint
    UNION ALL SELECT 'index' || count(*) || ':' || sum(hashtext(indexrelid::text || ':' || xmin::text)) FROM pg_index
    UNION ALL SELECT 'namespace' || count(*) || ':' || sum(hashtext(oid::text || ':' || xmin::text)) FROM pg_namespace
    UNION ALL SELECT 'type' || count(*) || ':' || sum(hashtext(oid::text || ':' || xmin::text)) FROM pg_type
    UNION ALL SELECT 'enum' || count(*) || ':' || sum(hashtext(oid::text || ':' || xmin::text)) FROM pg_enum
    UNION ALL SELECT 'proc' || count(*) || ':' || sum(hashtext(oid::text || ':' || xmin::text)) FROM pg_proc
    UNION ALL SELECT 'trigger' || count(*) || ':' || sum(hashtext(oid::text || ':' || xmin::text)) FROM pg_trigger
    UNION ALL SELECT 'policy' || count(*) || ':' || sum(hashtext(oid::text || ':' || xmin::text)) FROM pg_policy
    UNION ALL SELECT 'rewrite' || count(*) || ':' || sum(hashtext(oid::text || ':' || xmin::text)) FROM pg_rewrite
    UNION ALL SELECT 'sequence' || count(*) || ':' || sum(hashtext(seqrelid::text || ':' || xmin::text)) FROM pg_sequence
    UNION ALL SELECT 'inherits' || count(*) || ':' || sum(hashtext(inhrelid::text || ':' || xmin::text)) FROM pg_inherits
    UNION ALL SELECT 'extension' || count(*) || ':' || sum(hashtext(oid::text || ':' || xmin::text)) FROM pg_extension
    UNION ALL SELECT 'collation' || count(*) || ':' || sum(hashtext(oid::text || ':' || xmin::text)) FROM pg_collation
    UNION ALL SELECT 'depend' || count(*) || ':' || sum(hashtext(objid::text || ':' || refobjid::text || ':' || xmin::text)) FROM pg_depend
    UNION ALL SELECT 'roles' || count(*) || ':' || sum(hashtext(oid::text || ':' || rolname)) FROM pg_roles
    UNION ALL SELECT 'aggregate' || count(*) || ':' || sum(hashtext(aggfnoid::oid::text || ':' || xmin::text)) FROM pg_aggregate
    UNION ALL SELECT 'operator' || count(*) || ':' || sum(hashtext(oid::text || ':' || xmin::text)) FROM pg_operator
    UNION ALL SELECT 'cast' || count(*) || ':' || sum(hashtext(oid::text || ':' || xmin::text)) FROM pg_cast
    UNION ALL SELECT 'publication' || count(*) || ':' || sum(hashtext(oid::text || ':' || xmin::text)) FROM pg_publication
    UNION ALL SELECT 'publication_rel' || count(*) || ':' || sum(hashtext(oid::text || ':' || xmin::text)) FROM pg_publication_rel
    UNION ALL SELECT 'publication_ns' || count(*) || ':' || sum(hashtext(oid::text || ':' || xmin::text)) FROM pg_publication_namespace
    UNION ALL SELECT 'event_trigger' || count(*) || ':' || sum(hashtext(oid::text || ':' || xmin::text)) FROM pg_event_trigger
    UNION ALL SELECT 'default_acl' || count(*) || ':' || sum(hashtext(oid::text || ':' || xmin::text)) FROM pg_default_acl
    -- COMMENT ON writes only pg_description: without it a comment made where the
    -- audit does not see it (dbkit.audit = off, or not yet committed) was no change at all
    UNION ALL SELECT 'description' || count(*) || ':' || sum(hashtext(classoid::text || ':' || objoid::text || ':' || objsubid || ':' || xmin::text)) FROM pg_description
) f(part)
$$;

-- drift resolves an audit row that names the row holding its statement (the text
-- is kept once per transaction) by id, also outside its window: without an index
-- that read scanned the whole audit. Not unique: a restore loads old rows beside new ones.
CREATE INDEX ddl_audit_id ON dbkit.ddl_audit (id);

-- Deleting old audit rows by hand (the setting dbkit.audit_retention, 90 days by
-- default, does it as the audit writes). Not SECURITY DEFINER: only a role that
-- may DELETE from dbkit.ddl_audit (dbkit's owner, a deployer) can use it.
CREATE FUNCTION @extschema@.dbkit_purge_audit(older_than interval)
RETURNS bigint
AS 'MODULE_PATHNAME', 'dbkit_purge_audit' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.dbkit_purge_audit(interval) IS
    'Delete dbkit.ddl_audit rows older than the interval; recorded in dbkit.events';
REVOKE EXECUTE ON FUNCTION @extschema@.dbkit_purge_audit(interval) FROM PUBLIC;
-- end of issue 16 item 6 / issue 17 item 11

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
-- A client whose statements a pooler in transaction mode handed to other server
-- sessions cannot release its lock from them: it ends the idle session holding it.
CREATE FUNCTION @extschema@.dbkit_deploy_unlock_stranded(pid integer) RETURNS boolean
AS 'MODULE_PATHNAME', 'dbkit_deploy_unlock_stranded' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION @extschema@.dbkit_deploy_unlock_stranded(integer) IS
    'End the idle server session pid that holds dbkit''s deploy lock (left by a deploy through a pooler in transaction mode)';
CREATE FUNCTION @extschema@.dbkit_deploy_lock_holder() RETURNS text
AS 'MODULE_PATHNAME', 'dbkit_deploy_lock_holder' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.dbkit_deploy_lock_holder() IS
    'The sessions holding dbkit''s deploy lock (pid, user, application, since when), or NULL when it is free';

------------------------------------------------------------------------------
-- Issue 13, items 1 and 2: down files and dbkit_rollback
------------------------------------------------------------------------------
-- The sha256 of a migration's down file (<tag>.down.sql, <folder>/down.sql) when
-- it was recorded, so that dbkit check reports a down file edited since.
ALTER TABLE dbkit.migrations ADD COLUMN down_hash text;

-- Runs the down files of the newest applied migrations (newest first) in the
-- caller's transaction, removes their rows from dbkit's history and drizzle's
-- table, and records a 'rollback' event. options: {"steps": N} or {"to": "tag"}
-- (roll back everything applied after tag), "reason" (required), "dry_run",
-- and the drizzle/lock_wait options of dbkit_apply.
CREATE FUNCTION @extschema@.dbkit_rollback(folder jsonb, options jsonb)
RETURNS TABLE (idx integer, tag text, action text, statements integer, duration_ms double precision,
               hash text, down_file text, down_hash text)
AS 'MODULE_PATHNAME', 'dbkit_rollback' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.dbkit_rollback(jsonb, jsonb) IS
    'Roll back the newest applied migrations with their down files, in the current transaction';
REVOKE EXECUTE ON FUNCTION @extschema@.dbkit_rollback(jsonb, jsonb) FROM PUBLIC;

-- end of issue 13 items 1 and 2

------------------------------------------------------------------------------
-- Issue 10: the schema engine. PostgreSQL builds a desired schema in a shadow
-- (a subtransaction that is always rolled back) and dbkit.snapshot() reads it
-- as it reads the live one. They run as the caller: the shadow needs the rights
-- to rename the live schemas for a moment (their owner, or the database owner).
------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.dbkit_schema_from_folder(folder jsonb, options jsonb DEFAULT '{}')
RETURNS jsonb
AS 'MODULE_PATHNAME', 'dbkit_schema_from_folder' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.dbkit_schema_from_folder(jsonb, jsonb) IS
    'The schema a folder''s migrations build (options.through: up to that tag), built in a shadow and read like dbkit_snapshot()';

CREATE FUNCTION @extschema@.dbkit_schema_from_sql(sql text, options jsonb DEFAULT '{}')
RETURNS jsonb
AS 'MODULE_PATHNAME', 'dbkit_schema_from_sql' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.dbkit_schema_from_sql(text, jsonb) IS
    'The schema a SQL file builds (hand-written, or drizzle-kit export), built in a shadow and read like dbkit_snapshot()';

-- The code's side of dbkit drift --dir, kept per source hash: a monitoring poll
-- builds no shadow while the folder is unchanged.
CREATE TABLE dbkit.code_schemas (
    key       text PRIMARY KEY,     -- sha256 of what was built (engine version, server version, statements)
    source    text NOT NULL,        -- what it was built from, for people
    built_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    snapshot  jsonb NOT NULL
);

-- dbkit_drift_code now builds the code's side in the shadow: it changes catalogs
-- inside a subtransaction it rolls back, which PostgreSQL allows only in a
-- VOLATILE function. Readers may see the cache (it holds only what
-- pg_catalog shows anyway); the deployer also writes it.
ALTER FUNCTION @extschema@.dbkit_drift_code(jsonb) VOLATILE;
COMMENT ON FUNCTION @extschema@.dbkit_drift_code(jsonb) IS
    'Differences between the live schema and the code''s schema as PostgreSQL builds it: the folder''s migrations and its newest drizzle snapshot';
GRANT SELECT ON dbkit.code_schemas TO PUBLIC;

-- The DDL from one snapshot to another, ordered, each statement with its hazards.
-- options: renames (["public.users.bio=about", ...]), drop_and_add, concurrent_indexes.
CREATE FUNCTION @extschema@.dbkit_diff(from_schema jsonb, to_schema jsonb, options jsonb DEFAULT '{}')
RETURNS TABLE (step integer, statement text, no_transaction boolean, data_loss boolean, hazards jsonb,
               object text, comment text)
AS 'MODULE_PATHNAME', 'dbkit_diff' LANGUAGE C STABLE;
COMMENT ON FUNCTION @extschema@.dbkit_diff(jsonb, jsonb, jsonb) IS
    'The ordered DDL that turns one schema snapshot into another, with its hazards (data loss, rewrites, locks)';

-- For development: the live database made to match a schema file in the caller's
-- transaction, under the deploy lock. options: dry_run, accept_data_loss, renames,
-- drop_and_add, reason, lock_timeout, statement_timeout, lock_wait, name.
CREATE FUNCTION @extschema@.dbkit_push(sql text, options jsonb DEFAULT '{}')
RETURNS TABLE (step integer, statement text, hazards jsonb, rows_at_risk bigint, applied boolean, plan_sha256 text)
AS 'MODULE_PATHNAME', 'dbkit_push' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.dbkit_push(text, jsonb) IS
    'Make the live schema match a schema file (development): one transaction, never truncates, data loss only when accepted';
REVOKE EXECUTE ON FUNCTION @extschema@.dbkit_push(text, jsonb) FROM PUBLIC;

CREATE FUNCTION @extschema@.dbkit_schema_from_snapshot(folder jsonb, options jsonb DEFAULT '{}')
RETURNS jsonb
AS 'MODULE_PATHNAME', 'dbkit_schema_from_snapshot' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.dbkit_schema_from_snapshot(jsonb, jsonb) IS
    'The schema a folder''s newest drizzle snapshot declares (schema.ts at the last drizzle-kit generate), built in a shadow';

------------------------------------------------------------------------------
-- Issue 13, items 3 and 4: reverses computed by the engine, and rehearsals
------------------------------------------------------------------------------
-- For each pending migration: up, down, up in a subtransaction that is rolled back;
-- the schema after the down must be the one before the up. result: ok | wrong |
-- failed | no down file | irreversible | not rehearsed.
CREATE FUNCTION @extschema@.dbkit_rehearse(folder jsonb, options jsonb DEFAULT '{}')
RETURNS TABLE (tag text, result text, detail text)
AS 'MODULE_PATHNAME', 'dbkit_rehearse' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.dbkit_rehearse(jsonb, jsonb) IS
    'Prove the pending migrations'' down files: up, down, up, rolled back, the schema compared at each step';
REVOKE EXECUTE ON FUNCTION @extschema@.dbkit_rehearse(jsonb, jsonb) FROM PUBLIC;

-- The down file of a migration as the engine computes it: kind 'statement' rows in
-- order, and kind 'irreversible' rows for what it cannot give back.
CREATE FUNCTION @extschema@.dbkit_reverse(folder jsonb, tag text, options jsonb DEFAULT '{}')
RETURNS TABLE (kind text, step integer, statement text, note text)
AS 'MODULE_PATHNAME', 'dbkit_reverse' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.dbkit_reverse(jsonb, text, jsonb) IS
    'The reverse of a migration, computed from the schemas after and before it (built in the shadow)';

-- The answer of the last dbkit_drift_code polls, keyed by the live catalog's
-- fingerprint, the folder's files and the history: a poll when nothing changed
-- reads no schema (issue 10's drift on the engine, measured in bench/RESULTS.md).
CREATE TABLE dbkit.code_drift_results (
    key   text PRIMARY KEY,
    at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    rows  jsonb NOT NULL
);
GRANT SELECT ON dbkit.code_drift_results TO PUBLIC;

-- The live schema against a schema file (drizzle-kit export, hand-written), built by PostgreSQL.
CREATE FUNCTION @extschema@.dbkit_drift_schema(sql text, options jsonb DEFAULT '{}')
RETURNS TABLE (kind text, object text, change text, detail text, expected jsonb, actual jsonb, schema text)
AS 'MODULE_PATHNAME', 'dbkit_drift_schema' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.dbkit_drift_schema(text, jsonb) IS
    'Differences between the live schema and the schema a SQL file builds (as PostgreSQL builds it)';

------------------------------------------------------------------------------
-- Issue 13, item 2: a down file that cannot run in a transaction (DROP INDEX
-- CONCURRENTLY) runs statement by statement, as a non-transactional migration
-- does; its progress row says which way it runs.
------------------------------------------------------------------------------
ALTER TABLE dbkit.progress
    ADD COLUMN direction text NOT NULL DEFAULT 'up' CHECK (direction IN ('up', 'down')),
    ADD COLUMN reason text,  -- a rollback's --reason, for the event its finish records
    -- the oldest migration the stopped rollback was asked to roll back: --resume
    -- never reaches further back than the run it continues (its --steps would
    -- count from a history that earlier parts of that run already shortened)
    ADD COLUMN rollback_through text,
    -- the sha256 of each statement of the run as it was handed out: --resume runs what
    -- comes after the statements that ran, so those must be the ones in the file now
    -- (an edited or removed one would be recorded as done without ever running)
    ADD COLUMN statement_hashes text[];

-- 0.1.0's audit kept the text of statements carrying passwords (a user mapping's or a
-- subscription's options, PASSWORD '...'), readable by pg_monitor and deployers, where
-- PostgreSQL hides them: scrubbed, as 0.2.0 no longer keeps them (core/secrets.hpp).
UPDATE dbkit.ddl_audit
   SET statement = '-- [dbkit: the statement''s text is not kept: it may hold a password (dbkit.ddl_audit is '
                   'readable by pg_monitor and deployers)]'
 WHERE command_tag IN ('CREATE USER MAPPING', 'ALTER USER MAPPING', 'CREATE SUBSCRIPTION', 'ALTER SUBSCRIPTION',
                       'CREATE SERVER', 'ALTER SERVER')
    OR statement ~* 'password\s*(=|''|E''|\$)';

CREATE FUNCTION @extschema@.dbkit_rollback_nontx_start(folder jsonb, tag text, options jsonb DEFAULT '{}')
RETURNS TABLE (statement integer, line integer, sql text, lock_timeout_ms bigint, statement_timeout_ms bigint,
               lock_retries integer, retry_delay_ms bigint)
AS 'MODULE_PATHNAME', 'dbkit_rollback_nontx_start' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.dbkit_rollback_nontx_start(jsonb, text, jsonb) IS
    'The statements of the newest migration''s non-transactional down file, for the client to run one by one';
CREATE FUNCTION @extschema@.dbkit_rollback_nontx_finish(folder jsonb, tag text, options jsonb DEFAULT '{}')
RETURNS TABLE (idx integer, tag text, action text, statements integer, duration_ms double precision,
               hash text, down_file text, down_hash text)
AS 'MODULE_PATHNAME', 'dbkit_rollback_nontx_finish' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.dbkit_rollback_nontx_finish(jsonb, text, jsonb) IS
    'Record the rollback of a migration whose non-transactional down file ran statement by statement';
REVOKE EXECUTE ON FUNCTION @extschema@.dbkit_rollback_nontx_start(jsonb, text, jsonb) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.dbkit_rollback_nontx_finish(jsonb, text, jsonb) FROM PUBLIC;
-- Issue 14 item 1: incremental references. The reference is also kept per
-- object (dbkit.reference_objects); a deploy re-reads only the objects its
-- statements touched (the event triggers follow dbkit's own statements too) and
-- what depends on them; DDL outside dbkit leaves rows in dbkit.dirty_objects,
-- so a drift poll with none answers without reading the schema. docs/design.md,
-- "Incremental references".
------------------------------------------------------------------------------

-- The newest reference, per object: valid only while reference_state.snapshot_id
-- is the newest row of dbkit.snapshots.
CREATE TABLE dbkit.reference_objects (
    key    text PRIMARY KEY,
    value  jsonb NOT NULL,
    objid  oid,
    relid  oid
);
CREATE INDEX ON dbkit.reference_objects (objid);
CREATE INDEX ON dbkit.reference_objects (relid);
-- each ALTER DEFAULT PRIVILEGES looks up the reference's default privileges
-- (extension/touched.cpp): a handful of rows among every object's entries
CREATE INDEX reference_objects_default_acls ON dbkit.reference_objects (objid)
 WHERE pg_catalog.starts_with(key, 'default_privileges:');
CREATE TABLE dbkit.reference_state (
    one          boolean PRIMARY KEY DEFAULT true CHECK (one),
    snapshot_id  bigint,      -- the dbkit.snapshots row reference_objects holds
    guard        text,        -- dbkit._guard_fingerprint() when it was stored
    -- what a poll needs to find invalid indexes without scanning pg_index (a failed
    -- CREATE INDEX CONCURRENTLY or REINDEX CONCURRENTLY fires no ddl_command_end):
    -- the ones invalid then, and pg_class's highest oid then (a new index has a higher one)
    invalid_indexes oid[],
    max_class_oid   oid,
    -- one object ("classid:objid") owned by each role that owns any here: REASSIGN OWNED
    -- fires no event trigger, but moves every object of its role, so the owner of one
    -- of them tells (dbkit._owner_samples, read by the guard)
    owner_samples   text[]
);
INSERT INTO dbkit.reference_state DEFAULT VALUES;
-- Objects DDL outside dbkit's runs touched (written by the event triggers at
-- commit, whatever dbkit.audit says); classid 0: a command that names no object
-- (GRANT, ALTER DEFAULT PRIVILEGES, ...). by_dbkit: a statement dbkit ran that
-- committed without a reference taking it in (a non-transactional migration's,
-- one by one): its finish re-reads those objects when they are the only rows.
-- deferred (with by_dbkit): the objects of a transactional deploy that committed
-- without re-reading them; a background worker takes them in once the deploy's
-- session let go of the deploy lock (docs/design.md, "The re-read after the commit").
CREATE TABLE dbkit.dirty_objects (
    id       bigserial PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    classid  oid NOT NULL,
    objid    oid NOT NULL,
    by_dbkit boolean NOT NULL DEFAULT false,
    deferred boolean NOT NULL DEFAULT false
);
-- An incremental reference row holds what changed (changes: {key: [before, after]})
-- instead of the whole snapshot, which is reference_objects. carries_drift: the
-- run left drift not yet accepted as it was (its dbkit.dirty_objects rows stay).
ALTER TABLE dbkit.snapshots ALTER COLUMN snapshot DROP NOT NULL, ALTER COLUMN fingerprint DROP NOT NULL,
    ADD COLUMN changes jsonb, ADD COLUMN carries_drift boolean NOT NULL DEFAULT false;
-- Readable by every role, like dbkit.code_schemas: what they hold is what pg_catalog shows anyway
-- (and dbkit.snapshot(), which every role may call, reads them for the drizzle table left out).
GRANT SELECT ON dbkit.reference_objects, dbkit.reference_state, dbkit.dirty_objects TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('dbkit.dirty_objects', '');

-- What event triggers cannot see and is cheap to read: roles (shared, renamed from
-- any database) and event triggers (their own DDL fires none).
-- PL/pgSQL: its plan is kept for the session (an SQL function
-- that cannot be inlined is planned again at every call; a non-transactional run
-- calls these a few times per statement)
-- One object (not temporary) of each role that owns objects in this database, by
-- pg_shdepend's index on the role: a probe per role, whatever the schema's size.
-- "classid:objid:owner". (Objects of the bootstrap superuser have no rows there, and
-- REASSIGN OWNED refuses to move them.)
CREATE FUNCTION dbkit._owner_samples()
RETURNS text[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
RETURN array(
    SELECT x FROM (
        SELECT (SELECT d.classid::text || ':' || d.objid::text || ':' || r.oid::text FROM pg_shdepend d
                 WHERE d.refclassid = 'pg_authid'::regclass AND d.refobjid = r.oid AND d.deptype = 'o'
                   AND d.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                   AND d.objsubid = 0
                   AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE d.classid = 'pg_class'::regclass
                                      AND c.oid = d.objid AND c.relpersistence = 't')
                 LIMIT 1) AS x
          FROM pg_roles r
         WHERE r.oid >= 16384) s  -- the bootstrap superuser and pg_* roles own nothing here that can move
     WHERE x IS NOT NULL ORDER BY x);
END
$$;

-- The samples whose owner is not the one they were taken with (an object dropped
-- since is left out: its drop is DDL the event triggers saw). Empty when none.
CREATE FUNCTION dbkit._owners_now(samples text[])
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
RETURN coalesce((
    SELECT string_agg(s, ',' ORDER BY s)
      FROM unnest(samples) s,
           LATERAL (SELECT split_part(s, ':', 1)::oid AS classid, split_part(s, ':', 2)::oid AS objid,
                           split_part(s, ':', 3)::oid AS owner) p
     WHERE pg_describe_object(p.classid, p.objid, 0) IS NOT NULL
       AND coalesce((SELECT d.refobjid FROM pg_shdepend d
                      WHERE d.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                        AND d.classid = p.classid AND d.objid = p.objid AND d.objsubid = 0 AND d.deptype = 'o'),
                    0) <> p.owner), '');
END
$$;

-- `samples`: what the reference was stored with (dbkit.reference_state.owner_samples),
-- or a fresh dbkit._owner_samples() when it is being stored.
CREATE FUNCTION dbkit._guard_fingerprint(samples text[] DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
IF samples IS NULL THEN
    samples := coalesce((SELECT st.owner_samples FROM dbkit.reference_state st), '{}');
END IF;
-- No guard at all (NULL matches nothing: every read is a full one) while the event
-- triggers cannot see DDL: one of dbkit's is disabled (left so after maintenance), or
-- this session runs as a replica (session_replication_role, set by a role's or
-- database's default), where they do not fire.
IF current_setting('session_replication_role') <> 'origin'
   OR EXISTS (SELECT 1 FROM pg_event_trigger e
               WHERE e.evtname IN ('dbkit_audit_ddl', 'dbkit_audit_drop') AND e.evtenabled = 'D') THEN
    RETURN NULL;
END IF;
RETURN md5(coalesce((SELECT string_agg(oid::text || ':' || rolname, ',' ORDER BY oid) FROM pg_roles), '') || '|' ||
           coalesce((SELECT string_agg(oid::text || ':' || xmin::text || ':' || evtenabled::text, ',' ORDER BY oid)
                       FROM pg_event_trigger), '') || '|' || dbkit._owners_now(samples));
END
$$;

-- The newest reference as one map (an incremental row's is reference_objects).
CREATE FUNCTION dbkit.reference()
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE WHEN s.snapshot IS NOT NULL THEN s.snapshot
            WHEN s.id = (SELECT snapshot_id FROM dbkit.reference_state)
            THEN (SELECT coalesce(jsonb_object_agg(o.key, o.value), '{}'::jsonb) FROM dbkit.reference_objects o) END
  FROM (SELECT id, snapshot FROM dbkit.snapshots ORDER BY id DESC LIMIT 1) s
$$;

-- The drizzle table the newest reference left out ({"drizzle_schema", "drizzle_table"}; NULL: none).
CREATE FUNCTION dbkit._reference_format()
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT coalesce(s.snapshot -> 'dbkit:format',
                (SELECT o.value FROM dbkit.reference_objects o WHERE o.key = 'dbkit:format'
                    AND s.id = (SELECT snapshot_id FROM dbkit.reference_state)))
  FROM (SELECT NULL) one LEFT JOIN LATERAL (SELECT id, snapshot FROM dbkit.snapshots ORDER BY id DESC LIMIT 1) s ON true
$$;

CREATE OR REPLACE FUNCTION dbkit.snapshot()
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT dbkit.snapshot(coalesce(f ->> 'drizzle_schema', 'drizzle'), coalesce(f ->> 'drizzle_table', '__drizzle_migrations'))
  FROM (SELECT dbkit._reference_format() AS f) x
$$;

-- The objects whose entries a change to `touched` can alter: their tables (a
-- constraint's, an index's, ...); what renders their names (pg_depend
-- dependents of them, of a table's row and array types, of everything in a
-- touched schema); again the tables of all those. Computed from the live
-- catalogs and from the stored reference (what was dropped is only there).
-- In C over the catalogs' indexes (extension/expand_touched.cpp): as PL/pgSQL
-- its dozen statements were planned again in every new backend, ~10 ms of
-- every deploy.
CREATE FUNCTION dbkit._expand_touched(touched oid[])
RETURNS oid[]
AS 'MODULE_PATHNAME', 'dbkit_expand_touched' LANGUAGE C STABLE;

-- Issue 14 item 3: `dbkit status --dir` answered from a cache when nothing
-- changed (docs/design.md, "status from a cache"). The client sends the
-- folder's digest (core/folder_digest.hpp: sha256 over every file's sha256)
-- instead of 10,000 files; the answer is found under a key that also covers
-- everything else the answer reads. A miss sends the folder as before, through
-- dbkit_status_store, which files the answer under the digest it computes from
-- the folder itself (never the client's).
------------------------------------------------------------------------------

-- One row of a stored answer: dbkit_status(folder)'s columns. Stored as an
-- array of these rather than jsonb: reading 10,000 rows back from jsonb took
-- 60 ms (every field looked up and parsed), unnest of the array 5.
CREATE TYPE dbkit.status_row AS (idx integer, tag text, state text, file text, applied_at timestamptz,
                                 applied_by text, how text, file_hash text, applied_hash text, note text);

-- The last answers (20 kept). Readable by every role, as the answers are
-- dbkit_status's, which every role may call; written only by a role with
-- INSERT on it (the extension's owner, a deployer: dbkit_grant_deployer, at the
-- top of this file, grants it): a monitoring role reads, never stores.
-- Beside every row, what the text view prints, ready: the rows that need
-- attention (not applied) and the newest `recent` ones, with their places, and
-- the count of every state. Reading them back costs the same at 10 rows as at
-- 10,000 (unnest of every row and counting them took ~40 ms a call there).
CREATE TABLE dbkit.status_results (
    key         text PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT pg_catalog.now(),
    rows        dbkit.status_row[] NOT NULL,
    total       integer,
    counts      jsonb,
    recent      integer,
    shown       integer[],
    shown_rows  dbkit.status_row[]
);
GRANT SELECT ON dbkit.status_results TO PUBLIC;

-- The folder's digest, computed from the payload; NULL when the folder has
-- findings (its status raises WARNINGs, which a cached answer would not).
CREATE FUNCTION dbkit._folder_digest(folder jsonb)
RETURNS text
AS 'MODULE_PATHNAME', 'dbkit_folder_digest' LANGUAGE C STABLE;

-- sha256 of everything a folder's status reads besides the folder: the
-- history's rows, dbkit.progress, drizzle's table (when synced), the options,
-- the versions and the parser's settings. Read with the caller's rights.
CREATE FUNCTION dbkit._status_fingerprint(options jsonb DEFAULT '{}')
RETURNS text
AS 'MODULE_PATHNAME', 'dbkit_status_fingerprint' LANGUAGE C STABLE;

CREATE FUNCTION dbkit._status_key(digest text, options jsonb)
RETURNS text
LANGUAGE sql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(
               'dbkit-status-1' || E'\n' || digest || E'\n' || options::text || E'\n' ||
               dbkit._status_fingerprint(options), 'UTF8')), 'hex')
$$;

-- The answer dbkit_status(folder, options) gave for a folder with this digest,
-- when nothing it reads changed since; no rows when it is not known (the
-- caller then sends the folder to dbkit_status_store).
CREATE FUNCTION @extschema@.dbkit_status_cached(digest text, options jsonb DEFAULT '{}')
RETURNS TABLE (idx integer, tag text, state text, file text, applied_at timestamptz, applied_by text,
               how text, file_hash text, applied_hash text, note text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT u.idx, u.tag, u.state, u.file, u.applied_at, u.applied_by, u.how, u.file_hash, u.applied_hash, u.note
      FROM dbkit.status_results c,
           pg_catalog.unnest(c.rows) WITH ORDINALITY
               AS u(idx, tag, state, file, applied_at, applied_by, how, file_hash, applied_hash, note, n)
     WHERE c.key = dbkit._status_key(digest, options)
     ORDER BY u.n
$$;
COMMENT ON FUNCTION @extschema@.dbkit_status_cached(text, jsonb) IS
    'dbkit_status(folder) for the folder with this digest, when that answer is stored and nothing changed since';

-- What `dbkit status --dir` prints without --all, from the same stored answer:
-- every row that is not applied and the newest `recent`, each with its place
-- (n) in the answer, and on every row the answer's size and the count of each
-- state. No rows when the answer is not stored, or was stored for another
-- `recent` (the caller then stores it again).
CREATE FUNCTION @extschema@.dbkit_status_cached_summary(digest text, options jsonb DEFAULT '{}',
                                                        recent integer DEFAULT 20)
RETURNS TABLE (idx integer, tag text, state text, applied_at text, how text, note text, n integer,
               total integer, counts text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT u.idx, u.tag, u.state, u.applied_at::pg_catalog.text, u.how, u.note, c.shown[u.o], c.total,
           c.counts::pg_catalog.text
      FROM dbkit.status_results c,
           pg_catalog.unnest(c.shown_rows) WITH ORDINALITY
               AS u(idx, tag, state, file, applied_at, applied_by, how, file_hash, applied_hash, note, o)
     WHERE c.key = dbkit._status_key(digest, options) AND c.recent = $3  -- not `recent`: that is c's column
     ORDER BY u.o
$$;
COMMENT ON FUNCTION @extschema@.dbkit_status_cached_summary(text, jsonb, integer) IS
    'the rows of a stored dbkit_status(folder) answer that the text view prints, with their places and the counts';

-- dbkit_status(folder, options), and its answer stored for dbkit_status_cached
-- when the caller may write dbkit.status_results. Stored only in a REPEATABLE
-- READ (or SERIALIZABLE) transaction: the answer and its key then read one
-- snapshot, so a deploy committing in between cannot file an answer under a
-- history it was not computed from. A failure to store only skips the store.
CREATE FUNCTION @extschema@.dbkit_status_store(folder jsonb, options jsonb DEFAULT '{}', recent integer DEFAULT 20)
RETURNS TABLE (idx integer, tag text, state text, file text, applied_at timestamptz, applied_by text,
               how text, file_hash text, applied_hash text, note text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    answer dbkit.status_row[];
    k text;
BEGIN
    SELECT COALESCE(pg_catalog.array_agg(ROW(s.idx, s.tag, s.state, s.file, s.applied_at, s.applied_by, s.how,
                                             s.file_hash, s.applied_hash, s.note)::dbkit.status_row ORDER BY s.n),
                    '{}')
      INTO answer
      FROM @extschema@.dbkit_status(folder, options) WITH ORDINALITY
               AS s(idx, tag, state, file, applied_at, applied_by, how, file_hash, applied_hash, note, n);
    IF pg_catalog.current_setting('transaction_isolation') IN ('repeatable read', 'serializable')
       AND pg_catalog.cardinality(answer) > 0 THEN
        BEGIN
            k := dbkit._status_key(dbkit._folder_digest(folder), options);
            IF k IS NOT NULL AND pg_catalog.has_table_privilege('dbkit.status_results', 'INSERT, UPDATE, DELETE') THEN
                INSERT INTO dbkit.status_results (key, rows, total, counts, recent, shown, shown_rows)
                SELECT k, answer, pg_catalog.cardinality(answer),
                       (SELECT pg_catalog.jsonb_object_agg(g.state, g.k)
                          FROM (SELECT a.state, pg_catalog.count(*) AS k FROM pg_catalog.unnest(answer) a
                                 GROUP BY a.state) g),
                       recent,
                       pg_catalog.array_agg(u.n::integer ORDER BY u.n),
                       pg_catalog.array_agg(ROW(u.idx, u.tag, u.state, u.file, u.applied_at, u.applied_by, u.how,
                                                u.file_hash, u.applied_hash, u.note)::dbkit.status_row ORDER BY u.n)
                  FROM pg_catalog.unnest(answer) WITH ORDINALITY
                           AS u(idx, tag, state, file, applied_at, applied_by, how, file_hash, applied_hash, note, n)
                 WHERE u.state <> 'applied' OR u.n > pg_catalog.cardinality(answer) - recent
                    ON CONFLICT (key) DO UPDATE SET at = pg_catalog.now(), rows = EXCLUDED.rows, total = EXCLUDED.total,
                       counts = EXCLUDED.counts, recent = EXCLUDED.recent, shown = EXCLUDED.shown,
                       shown_rows = EXCLUDED.shown_rows;
                DELETE FROM dbkit.status_results
                 WHERE key NOT IN (SELECT r.key FROM dbkit.status_results r ORDER BY r.at DESC LIMIT 20);
            END IF;
        EXCEPTION WHEN OTHERS THEN
            NULL;  -- a read-only server, a concurrent store, ...: the answer is still returned
        END;
    END IF;
    RETURN QUERY
        SELECT u.idx, u.tag, u.state, u.file, u.applied_at, u.applied_by, u.how, u.file_hash, u.applied_hash, u.note
          FROM pg_catalog.unnest(answer) WITH ORDINALITY
                   AS u(idx, tag, state, file, applied_at, applied_by, how, file_hash, applied_hash, note, n)
         ORDER BY u.n;
END
$$;
COMMENT ON FUNCTION @extschema@.dbkit_status_store(jsonb, jsonb, integer) IS
    'dbkit_status(folder), its answer stored for dbkit_status_cached (in a REPEATABLE READ transaction, by a role that may write dbkit.status_results)';

-- Issue 14 item 1: the live schema read incrementally. full => false: the newest
-- reference with only the objects DDL outside dbkit touched since re-read (what a
-- drift poll with one change compares); full => true: every catalog read, which
-- the tests hold the incremental answer equal to. dbkit_snapshot() stays the full read.
CREATE FUNCTION @extschema@.dbkit_snapshot("full" boolean)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'dbkit_snapshot_read' LANGUAGE C STABLE;
COMMENT ON FUNCTION @extschema@.dbkit_snapshot(boolean) IS
    'The live schema as dbkit_snapshot() describes it; full => false re-reads only the objects DDL outside dbkit touched since the reference (the whole schema when that is not known to be equal)';
CREATE FUNCTION dbkit._dirty_set()
RETURNS oid[]
AS 'MODULE_PATHNAME', 'dbkit_dirty_set' LANGUAGE C STABLE;
COMMENT ON FUNCTION dbkit._dirty_set() IS
    'The objects an incremental read (dbkit_snapshot(full => false), dbkit_drift()) re-reads now; NULL: it reads the whole schema';
------------------------------------------------------------------------------
-- Issue 10, item 3: drizzle-kit's snapshot of a desired schema. dbkit generate
-- writes meta/NNNN_snapshot.json (or <migration>/snapshot.json) read from
-- PostgreSQL's catalogs in the shadow where the desired schema is built, in the
-- shape drizzle-kit 0.31 writes from schema.ts (its pgSerializer), so that a
-- later drizzle-kit generate finds nothing already covered. The texts drizzle
-- compares as text (check expressions, index predicates, view queries) are
-- spelled as the schema file wrote them when PostgreSQL still prints the object
-- as that statement built it ("spellings", collected by the shadow); otherwise
-- as PostgreSQL prints them.
------------------------------------------------------------------------------
-- How PostgreSQL prints an object a spelling names: "c:<constraint oid>",
-- "w:<index oid>" (its predicate), "v:<view oid>"; search_path fixed, so the
-- print does not depend on the caller's.
CREATE FUNCTION dbkit._drizzle_deparse(key text)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE split_part(key, ':', 1)
        WHEN 'c' THEN (SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c
                        WHERE c.oid = split_part(key, ':', 2)::oid)
        WHEN 'w' THEN (SELECT pg_get_expr(i.indpred, i.indrelid) FROM pg_index i
                        WHERE i.indexrelid = split_part(key, ':', 2)::oid)
        WHEN 'v' THEN (SELECT pg_get_viewdef(c.oid) FROM pg_class c
                        WHERE c.oid = split_part(key, ':', 2)::oid AND c.relkind IN ('v', 'm'))
        WHEN 'd' THEN (SELECT pg_get_expr(ad.adbin, ad.adrelid) FROM pg_attrdef ad
                        WHERE ad.adrelid = split_part(key, ':', 2)::oid AND ad.adnum = split_part(key, ':', 3)::int2)
        WHEN 't' THEN (SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
                        WHERE a.attrelid = split_part(key, ':', 2)::oid AND a.attnum = split_part(key, ':', 3)::int2)
    END
$$;

-- A spelling's text when it still describes the object (see above), else NULL.
CREATE FUNCTION dbkit._drizzle_spelled(spellings jsonb, key text)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT spellings -> key ->> 'text'
     WHERE spellings -> key ->> 'deparsed' IS NOT DISTINCT FROM dbkit._drizzle_deparse(key)
       AND spellings ? key
$$;

-- JSON text without the spaces jsonb prints between tokens (JavaScript's
-- JSON.stringify spacing), strings untouched.
CREATE FUNCTION dbkit._drizzle_json_compact(j text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    out text := '';
    in_string boolean := false;
    escaped boolean := false;
    ch text;
BEGIN
    FOR i IN 1 .. length(j) LOOP
        ch := substr(j, i, 1);
        IF in_string THEN
            out := out || ch;
            IF escaped THEN escaped := false;
            ELSIF ch = '\' THEN escaped := true;
            ELSIF ch = '"' THEN in_string := false;
            END IF;
        ELSIF ch = '"' THEN
            in_string := true;
            out := out || ch;
        ELSIF ch NOT IN (' ', E'\n', E'\t', E'\r') THEN
            out := out || ch;
        END IF;
    END LOOP;
    RETURN out;
END
$$;

-- An expression without one pair of parentheses around all of it: "(a > 0)" -> "a > 0"
-- (PostgreSQL prints a check's expression in parentheses; schema.ts has none).
CREATE FUNCTION dbkit._drizzle_unwrap(e text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    depth integer := 0;
    quote text := NULL;
    ch text;
BEGIN
    IF e IS NULL OR left(e, 1) <> '(' OR right(e, 1) <> ')' THEN
        RETURN e;
    END IF;
    FOR i IN 1 .. length(e) LOOP
        ch := substr(e, i, 1);
        IF quote IS NOT NULL THEN
            IF ch = quote THEN quote := NULL; END IF;  -- a doubled quote reopens at once
        ELSIF ch IN ('''', '"') THEN
            quote := ch;
        ELSIF ch = '(' THEN
            depth := depth + 1;
        ELSIF ch = ')' THEN
            depth := depth - 1;
            IF depth = 0 AND i < length(e) THEN
                RETURN e;  -- the first parenthesis closes before the end: not one pair around all
            END IF;
        END IF;
    END LOOP;
    RETURN substr(e, 2, length(e) - 2);
END
$$;

-- A column default as drizzle-kit's snapshot holds it (pgSerializer): numbers
-- and booleans as JSON values, a literal without its cast ('active', not
-- 'active'::text), json compacted, expressions as PostgreSQL prints them.
CREATE FUNCTION dbkit._drizzle_default(def text, dtype text)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d text := def;
    lit text;
BEGIN
    IF def IS NULL THEN
        RETURN NULL;
    END IF;
    -- a quoted literal with a cast: the literal alone
    lit := substring(d FROM '^(''(?:[^'']|'''')*'')::[^'']+$');
    IF lit IS NOT NULL THEN
        d := lit;
    END IF;
    IF dtype IN ('integer', 'smallint', 'bigint', 'double precision', 'real') THEN
        IF d ~ '^''-?[0-9.]+(e-?[0-9]+)?''$' THEN
            d := substr(d, 2, length(d) - 2);
        END IF;
        IF d ~ '^-?[0-9.]+(e-?[0-9]+)?$' THEN
            RETURN d::numeric::text::jsonb;
        END IF;
        RETURN to_jsonb(d);
    ELSIF dtype = 'boolean' AND d IN ('true', 'false') THEN
        RETURN d::jsonb;
    ELSIF dtype LIKE 'numeric%' THEN
        RETURN to_jsonb(CASE WHEN d LIKE '%''%' THEN d ELSE '''' || d || '''' END);
    ELSIF dtype IN ('json', 'jsonb') AND lit IS NOT NULL
          AND jsonb_typeof(replace(substr(lit, 2, length(lit) - 2), '''''', '''')::jsonb) = 'string' THEN
        -- a JSON string: drizzle-kit writes jsonb('c').default('none') as 'none' (lmnr-ai/lmnr)
        RETURN to_jsonb('''' || (replace(substr(lit, 2, length(lit) - 2), '''''', '''')::jsonb #>> '{}') || '''');
    ELSIF dtype IN ('json', 'jsonb') AND lit IS NOT NULL THEN
        RETURN to_jsonb('''' || dbkit._drizzle_json_compact(substr(lit, 2, length(lit) - 2)) || '''::' || dtype);
    ELSIF dtype LIKE '%[]' AND lit IS NOT NULL AND substr(lit, 2, 1) = '{' AND strpos(substr(lit, 3), '{') = 0
          AND split_part(dtype, '[', 1) NOT IN ('integer', 'smallint', 'bigint', 'double precision', 'real', 'boolean')
          AND split_part(dtype, '[', 1) NOT LIKE 'numeric%' THEN
        -- a one-dimensional array of strings as drizzle-kit's buildArrayString writes it: '{"a","b"}'
        RETURN to_jsonb('''{' || coalesce((SELECT string_agg('"' || e || '"', ',' ORDER BY o)
                                            FROM unnest(replace(substr(lit, 2, length(lit) - 2), '''''', '''')::text[])
                                                 WITH ORDINALITY u(e, o)), '') || '}''');
    END IF;
    RETURN to_jsonb(d);
END
$$;

-- A column's type as drizzle-kit names it (PgColumn.getSQLType()): varchar(255),
-- numeric(10, 2), timestamp (3) with time zone, an enum by its name, another type of
-- the database as format_type() prints it outside public, [] per dimension.
CREATE FUNCTION dbkit._drizzle_type(typid oid, typmod integer, ndims integer)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    base oid := typid;
    dims integer := 0;
    nsp text;
    name text;
    t text;
BEGIN
    SELECT CASE WHEN ty.typelem <> 0 AND ty.typlen = -1 AND ty.typcategory = 'A' THEN ty.typelem ELSE ty.oid END
      INTO base FROM pg_type ty WHERE ty.oid = typid;
    IF base <> typid THEN
        dims := greatest(ndims, 1);
    END IF;
    SELECT n.nspname, CASE WHEN ty.typtype = 'e' THEN ty.typname::text END INTO nsp, name
      FROM pg_type ty JOIN pg_namespace n ON n.oid = ty.typnamespace WHERE ty.oid = base;
    IF nsp = 'pg_catalog' THEN
        t := format_type(base, typmod);
        t := regexp_replace(t, '^character varying', 'varchar');
        t := regexp_replace(t, '^character', 'char');
        t := regexp_replace(t, '^numeric\((\d+),(\d+)\)', 'numeric(\1, \2)');
        t := regexp_replace(t, '^timestamp\((\d+)\)', 'timestamp (\1)');
        t := replace(t, ' without time zone', '');
    ELSIF name IS NOT NULL THEN
        t := name;  -- an enum by its name; the column's typeSchema says where
    ELSE
        t := regexp_replace(format_type(base, typmod), '^public\.', '');  -- vector(3), app.money
    END IF;
    RETURN t || repeat('[]', dims);
END
$$;

-- The schema as drizzle-kit's snapshot (version 7, postgresql) describes it,
-- without id and prevId. Every user schema but drizzle's (drizzle_schema), dbkit's
-- and the shadow's renamed ones; objects of extensions left out.
-- Whether a primary key's name is the one PostgreSQL gives a key declared on its column:
-- the table's name (cut to fit 63 bytes) then _pkey, and a number when that was taken.
-- drizzle's primaryKey({ name, columns }) names its key; drizzle-kit writes that one
-- under compositePrimaryKeys even for one column.
CREATE FUNCTION dbkit._is_default_pkey_name(conname text, relname text)
RETURNS boolean
LANGUAGE sql IMMUTABLE
AS $$
SELECT conname OPERATOR(pg_catalog.~) '_pkey[0-9]*$'
   AND pg_catalog.starts_with(relname, pg_catalog.regexp_replace(conname, '_pkey[0-9]*$', ''))
$$;

CREATE FUNCTION dbkit._drizzle_snapshot(drizzle_schema text, spellings jsonb DEFAULT '{}')
RETURNS json
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    nsps oid[];
    result json;
BEGIN
    SELECT coalesce(array_agg(n.oid), '{}') INTO nsps
      FROM pg_namespace n
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'dbkit', drizzle_schema)
       AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
       AND n.nspname NOT LIKE 'dbkit\_shadow\_%'
       -- the shadow's stand-ins for the environment's schemas (Supabase's auth): not the code's
       AND NOT coalesce(spellings -> 'environment', '[]') ? n.nspname
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass
                          AND d.objid = n.oid AND d.deptype = 'e');

    WITH rels AS (
        SELECT c.oid, c.relname::text AS name, n.nspname::text AS nsp, c.relkind, c.relrowsecurity
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relnamespace = ANY (nsps) AND c.relkind IN ('r', 'v', 'm', 'S') AND NOT c.relispartition
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                              AND d.objid = c.oid AND d.deptype = 'e')
    ),
    cols AS (
        SELECT a.attrelid, a.attname::text AS name, a.attnum, a.attnotnull, a.attidentity, a.attgenerated,
               dbkit._drizzle_type(a.atttypid, a.atttypmod, a.attndims) AS dtype,
               ty.typtype, tn.nspname::text AS typnsp, et.typtype AS elemtyptype, etn.nspname::text AS elemnsp,
               pg_get_expr(ad.adbin, ad.adrelid) AS def,
               pg_get_serial_sequence(format('%I.%I', r.nsp, r.name), a.attname) AS seq,
               -- a key of its own on the column (primaryKey: true) carries PostgreSQL's name for it;
               -- a named one is drizzle's primaryKey({ columns, name }), under compositePrimaryKeys
               EXISTS (SELECT 1 FROM pg_constraint pk WHERE pk.conrelid = a.attrelid AND pk.contype = 'p'
                          AND pk.conkey = ARRAY[a.attnum]
                          AND dbkit._is_default_pkey_name(pk.conname::text, r.name)) AS pk
          FROM pg_attribute a
          JOIN rels r ON r.oid = a.attrelid AND r.relkind = 'r'
          JOIN pg_type ty ON ty.oid = a.atttypid
          JOIN pg_namespace tn ON tn.oid = ty.typnamespace
          LEFT JOIN pg_type et ON et.oid = ty.typelem AND ty.typcategory = 'A'
          LEFT JOIN pg_namespace etn ON etn.oid = et.typnamespace
          LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
         WHERE a.attnum > 0 AND NOT a.attisdropped
    ),
    cols2 AS (
        SELECT c.*,
               c.attidentity = '' AND c.attgenerated = '' AND c.seq IS NOT NULL
                   AND c.dtype IN ('integer', 'bigint', 'smallint')
                   AND c.def = format('nextval(%L::regclass)', c.seq::regclass::text) AS is_serial
          FROM cols c
    ),
    coljson AS (
        SELECT c.attrelid, jsonb_object_agg(c.name, jsonb_strip_nulls(jsonb_build_object(
                   'name', c.name,
                   'type', CASE WHEN c.is_serial THEN CASE c.dtype WHEN 'integer' THEN 'serial'
                                     WHEN 'bigint' THEN 'bigserial' ELSE 'smallserial' END
                                -- `char` without a length (stored as character(1)) as spelled
                                ELSE coalesce(dbkit._drizzle_spelled(spellings, 't:' || c.attrelid || ':' || c.attnum),
                                              c.dtype) END,
                   'typeSchema', CASE WHEN c.typtype = 'e' THEN c.typnsp
                                      WHEN c.elemtyptype = 'e' THEN c.elemnsp END,
                   'primaryKey', c.pk,
                   'notNull', c.attnotnull,
                   -- a default drizzle holds as text: the schema file's spelling (drizzle-kit export writes
                   -- the snapshot's own), as long as PostgreSQL still prints what that statement built
                   'default', CASE WHEN NOT c.is_serial AND c.attgenerated = '' THEN
                       coalesce(CASE WHEN jsonb_typeof(dbkit._drizzle_default(c.def, c.dtype)) = 'string'
                                     THEN to_jsonb(dbkit._drizzle_spelled(spellings, 'd:' || c.attrelid || ':' || c.attnum)) END,
                                dbkit._drizzle_default(c.def, c.dtype)) END,
                   'generated', CASE WHEN c.attgenerated = 's' THEN jsonb_build_object('as', c.def, 'type', 'stored') END,
                   'identity', CASE WHEN c.attidentity <> '' THEN (
                       SELECT jsonb_build_object(
                                  'type', CASE c.attidentity WHEN 'a' THEN 'always' ELSE 'byDefault' END,
                                  'name', sc.relname::text, 'schema', sn.nspname::text,
                                  'increment', s.seqincrement::text, 'startWith', s.seqstart::text,
                                  'minValue', s.seqmin::text, 'maxValue', s.seqmax::text,
                                  'cache', s.seqcache::text, 'cycle', s.seqcycle)
                         FROM pg_sequence s JOIN pg_class sc ON sc.oid = s.seqrelid
                         JOIN pg_namespace sn ON sn.oid = sc.relnamespace
                        WHERE s.seqrelid = c.seq::regclass) END)))
                   AS columns
          FROM cols2 c GROUP BY c.attrelid
    ),
    cons AS (
        -- a name over 63 bytes as the schema file declares it ("n:c:<stored>", drizzle_snapshot.cpp)
        SELECT k.oid, k.conrelid, coalesce(spellings ->> ('n:c:' || k.conname), k.conname::text) AS name, k.contype,
               k.confrelid, k.confupdtype, k.confdeltype,
               k.conindid,
               ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(n, o)
                       JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.o) AS cols,
               ARRAY(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY u(n, o)
                       JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.o) AS fcols
          FROM pg_constraint k JOIN rels r ON r.oid = k.conrelid AND r.relkind = 'r'
    ),
    action(code, word) AS (
        VALUES ('a'::"char", 'no action'), ('r', 'restrict'), ('n', 'set null'), ('c', 'cascade'), ('d', 'set default')
    ),
    fkjson AS (
        SELECT k.conrelid, jsonb_object_agg(k.name, jsonb_build_object(
                   'name', k.name, 'tableFrom', r.name, 'tableTo', fc.relname::text, 'schemaTo', fn.nspname::text,
                   'columnsFrom', to_jsonb(k.cols), 'columnsTo', to_jsonb(k.fcols),
                   'onDelete', (SELECT word FROM action WHERE code = k.confdeltype),
                   'onUpdate', (SELECT word FROM action WHERE code = k.confupdtype))) AS fks
          FROM cons k JOIN rels r ON r.oid = k.conrelid
          JOIN pg_class fc ON fc.oid = k.confrelid JOIN pg_namespace fn ON fn.oid = fc.relnamespace
         WHERE k.contype = 'f' GROUP BY k.conrelid
    ),
    pkjson AS (
        SELECT k.conrelid, jsonb_object_agg(k.name, jsonb_build_object('name', k.name, 'columns', to_jsonb(k.cols))) AS pks
          FROM cons k JOIN rels r ON r.oid = k.conrelid
         WHERE k.contype = 'p' AND (cardinality(k.cols) > 1 OR NOT dbkit._is_default_pkey_name(k.name, r.name))
         GROUP BY k.conrelid
    ),
    uqjson AS (
        SELECT k.conrelid, jsonb_object_agg(k.name, jsonb_build_object(
                   'name', k.name, 'columns', to_jsonb(k.cols),
                   'nullsNotDistinct', coalesce((SELECT (to_jsonb(i) ->> 'indnullsnotdistinct')::boolean
                                                   FROM pg_index i WHERE i.indexrelid = k.conindid), false))) AS uqs
          FROM cons k WHERE k.contype = 'u' GROUP BY k.conrelid
    ),
    ckjson AS (
        SELECT k.conrelid, jsonb_object_agg(k.name, jsonb_build_object(
                   'name', k.name,
                   'value', coalesce(dbkit._drizzle_spelled(spellings, 'c:' || k.oid),
                                     dbkit._drizzle_unwrap(regexp_replace(regexp_replace(
                                         dbkit._drizzle_deparse('c:' || k.oid), ' NOT VALID$', ''),
                                         '^CHECK \((.*)\)$', '\1'))))) AS cks
          FROM cons k WHERE k.contype = 'c' GROUP BY k.conrelid
    ),
    idx AS (
        SELECT i.indrelid, ic.oid, coalesce(spellings ->> ('n:i:' || ic.relname), ic.relname::text) AS name,
               i.indisunique, am.amname::text AS method, ic.reloptions,
               i.indpred IS NOT NULL AS has_where,
               (SELECT jsonb_agg(CASE WHEN i.indkey[k.n - 1] = 0 THEN
                           jsonb_build_object('expression', pg_get_indexdef(i.indexrelid, k.n, false),
                                              'isExpression', true, 'asc', true, 'nulls', 'last')
                       ELSE jsonb_strip_nulls(jsonb_build_object(
                           'expression', (SELECT a.attname::text FROM pg_attribute a
                                           WHERE a.attrelid = i.indrelid AND a.attnum = i.indkey[k.n - 1]),
                           'isExpression', false,
                           'asc', i.indoption[k.n - 1] & 1 = 0,
                           'nulls', CASE WHEN i.indoption[k.n - 1] & 2 = 2 THEN 'first' ELSE 'last' END,
                           'opclass', (SELECT o.opcname::text FROM pg_opclass o
                                        WHERE o.oid = i.indclass[k.n - 1] AND NOT o.opcdefault))) END
                       ORDER BY k.n)
                  FROM generate_series(1, i.indnkeyatts) k(n)) AS columns
          FROM pg_index i JOIN rels r ON r.oid = i.indrelid AND r.relkind = 'r'
          JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
         WHERE NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid
                              AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))
    ),
    idxjson AS (
        SELECT x.indrelid, jsonb_object_agg(x.name, jsonb_strip_nulls(jsonb_build_object(
                   'name', x.name, 'columns', x.columns, 'isUnique', x.indisunique, 'concurrently', false,
                   'method', x.method,
                   'where', CASE WHEN x.has_where THEN coalesce(dbkit._drizzle_spelled(spellings, 'w:' || x.oid),
                                                               dbkit._drizzle_deparse('w:' || x.oid)) END,
                   -- numbers and booleans as schema.ts writes them ({fillfactor: 70}): drizzle-kit compares values
                   'with', coalesce((SELECT jsonb_object_agg(split_part(o, '=', 1),
                                       CASE WHEN substr(o, strpos(o, '=') + 1) IN ('true', 'false', 'on', 'off')
                                            THEN to_jsonb(substr(o, strpos(o, '=') + 1) IN ('true', 'on'))
                                            WHEN substr(o, strpos(o, '=') + 1) ~ '^-?[0-9]+(\.[0-9]+)?$'
                                            THEN to_jsonb(substr(o, strpos(o, '=') + 1)::numeric)
                                            ELSE to_jsonb(substr(o, strpos(o, '=') + 1)) END)
                                       FROM unnest(x.reloptions) o), '{}')))) AS indexes
          FROM idx x GROUP BY x.indrelid
    ),
    poljson AS (
        SELECT p.polrelid, jsonb_object_agg(p.polname::text, jsonb_strip_nulls(jsonb_build_object(
                   'name', p.polname::text,
                   'as', CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
                   'for', CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                                        WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
                   'to', (SELECT jsonb_agg(x ORDER BY x) FROM (
                             SELECT CASE WHEN ro = 0 THEN 'public' ELSE (SELECT rolname::text FROM pg_roles WHERE oid = ro) END
                               FROM unnest(p.polroles) ro) t(x)),
                   'using', pg_get_expr(p.polqual, p.polrelid),
                   'withCheck', pg_get_expr(p.polwithcheck, p.polrelid)))) AS policies
          FROM pg_policy p JOIN rels r ON r.oid = p.polrelid GROUP BY p.polrelid
    ),
    tables AS (
        SELECT jsonb_object_agg(r.nsp || '.' || r.name, jsonb_build_object(
                   'name', r.name, 'schema', CASE WHEN r.nsp = 'public' THEN '' ELSE r.nsp END,
                   'columns', coalesce(cj.columns, '{}'), 'indexes', coalesce(ij.indexes, '{}'),
                   'foreignKeys', coalesce(fj.fks, '{}'), 'compositePrimaryKeys', coalesce(pj.pks, '{}'),
                   'uniqueConstraints', coalesce(uj.uqs, '{}'), 'policies', coalesce(plj.policies, '{}'),
                   'checkConstraints', coalesce(kj.cks, '{}'), 'isRLSEnabled', r.relrowsecurity)) AS j
          FROM rels r
          LEFT JOIN coljson cj ON cj.attrelid = r.oid LEFT JOIN idxjson ij ON ij.indrelid = r.oid
          LEFT JOIN fkjson fj ON fj.conrelid = r.oid LEFT JOIN pkjson pj ON pj.conrelid = r.oid
          LEFT JOIN uqjson uj ON uj.conrelid = r.oid LEFT JOIN poljson plj ON plj.polrelid = r.oid
          LEFT JOIN ckjson kj ON kj.conrelid = r.oid
         WHERE r.relkind = 'r'
    ),
    -- views in dependency order (a view after those it reads), which json keeps and
    -- jsonb would not: drizzle-kit and dbkit create them in the snapshot's order
    vdeps AS (
        SELECT DISTINCT rw.ev_class AS v, d.refobjid AS dep
          FROM pg_rewrite rw
          JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = rw.oid
                          AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> rw.ev_class
          JOIN rels r1 ON r1.oid = rw.ev_class AND r1.relkind IN ('v', 'm')
          JOIN rels r2 ON r2.oid = d.refobjid AND r2.relkind IN ('v', 'm')
    ),
    vdepth AS (
        SELECT v, max(n) AS n FROM (
            WITH RECURSIVE walk(v, n) AS (
                SELECT r.oid, 0 FROM rels r WHERE r.relkind IN ('v', 'm')
                UNION ALL
                SELECT vd.v, w.n + 1 FROM vdeps vd JOIN walk w ON w.v = vd.dep WHERE w.n < 100
            )
            SELECT v, n FROM walk) x
         GROUP BY v
    ),
    views AS (
        SELECT json_object_agg(r.nsp || '.' || r.name, jsonb_strip_nulls(jsonb_build_object(
                   'name', r.name, 'schema', r.nsp, 'columns', '{}'::jsonb,
                   'definition', coalesce(dbkit._drizzle_spelled(spellings, 'v:' || r.oid),
                                          btrim(replace(regexp_replace(pg_get_viewdef(r.oid), '\s+', ' ', 'g'), ';', ''))),
                   'materialized', r.relkind = 'm', 'isExisting', false,
                   'with', (SELECT jsonb_object_agg(
                                       (SELECT string_agg(CASE WHEN u.o = 1 THEN u.p ELSE initcap(u.p) END, '' ORDER BY u.o)
                                          FROM unnest(string_to_array(split_part(o, '=', 1), '_')) WITH ORDINALITY u(p, o)),
                                       CASE WHEN substr(o, strpos(o, '=') + 1) IN ('true', 'false', 'on', 'off')
                                            THEN to_jsonb(substr(o, strpos(o, '=') + 1) IN ('true', 'on'))
                                            WHEN substr(o, strpos(o, '=') + 1) ~ '^-?[0-9.]+$'
                                            THEN to_jsonb(substr(o, strpos(o, '=') + 1)::numeric)
                                            ELSE to_jsonb(substr(o, strpos(o, '=') + 1)) END)
                              FROM pg_class vc, unnest(vc.reloptions) o WHERE vc.oid = r.oid)))
                   ORDER BY vd.n, r.nsp, r.name) AS j
          FROM rels r JOIN vdepth vd ON vd.v = r.oid WHERE r.relkind IN ('v', 'm')
    ),
    enums AS (
        SELECT jsonb_object_agg(n.nspname || '.' || t.typname, jsonb_build_object(
                   'name', t.typname::text, 'schema', n.nspname::text,
                   'values', (SELECT jsonb_agg(e.enumlabel::text ORDER BY e.enumsortorder)
                                FROM pg_enum e WHERE e.enumtypid = t.oid))) AS j
          FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
         WHERE t.typtype = 'e' AND t.typnamespace = ANY (nsps)
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass
                              AND d.objid = t.oid AND d.deptype = 'e')
    ),
    seqs AS (
        SELECT jsonb_object_agg(r.nsp || '.' || r.name, jsonb_build_object(
                   'name', r.name, 'schema', r.nsp,
                   'increment', s.seqincrement::text, 'startWith', s.seqstart::text,
                   'minValue', s.seqmin::text, 'maxValue', s.seqmax::text,
                   'cache', s.seqcache::text, 'cycle', s.seqcycle)) AS j
          FROM rels r JOIN pg_sequence s ON s.seqrelid = r.oid
         WHERE r.relkind = 'S'
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = r.oid
                              AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i'))
    ),
    schemas AS (
        SELECT jsonb_object_agg(n.nspname::text, n.nspname::text) AS j
          FROM pg_namespace n
         WHERE n.oid = ANY (nsps) AND n.nspname <> 'public'
           AND NOT EXISTS (SELECT 1 FROM pg_extension e WHERE e.extnamespace = n.oid)
    )
    SELECT json_build_object(
               'version', '7', 'dialect', 'postgresql',
               'tables', coalesce((SELECT j FROM tables), '{}'),
               'enums', coalesce((SELECT j FROM enums), '{}'),
               'schemas', coalesce((SELECT j FROM schemas), '{}'),
               'sequences', coalesce((SELECT j FROM seqs), '{}'),
               'roles', '{}'::jsonb, 'policies', '{}'::jsonb,
               'views', coalesce((SELECT j FROM views), '{}'::json),
               '_meta', jsonb_build_object('schemas', '{}'::jsonb, 'tables', '{}'::jsonb, 'columns', '{}'::jsonb))
      INTO result;
    RETURN result;
END
$$;

-- What a schema file builds, as drizzle-kit's snapshot: built in the shadow and
-- read by dbkit._drizzle_snapshot. dbkit generate writes it beside the migration.
CREATE FUNCTION @extschema@.dbkit_drizzle_snapshot_from_sql(sql text, options jsonb DEFAULT '{}')
RETURNS json
AS 'MODULE_PATHNAME', 'dbkit_drizzle_snapshot_from_sql' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.dbkit_drizzle_snapshot_from_sql(text, jsonb) IS
    'The schema a SQL file builds, as drizzle-kit''s snapshot JSON (version 7, without id and prevId; json: views in dependency order), read from the catalogs of the shadow where PostgreSQL built it';

-- Whether a snapshot key names an object in one of `schemas` (a JSON array of
-- names): "schema:auth", "table:auth.users", "trigger:auth.users.t", and default
-- privileges "... in auth on tables". The schemas of the environment (a
-- platform's, as Supabase's auth) that the shadow stands in for.
CREATE FUNCTION dbkit._key_in_schemas(key text, schemas jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog
AS $$
    SELECT EXISTS (SELECT 1 FROM pg_catalog.jsonb_array_elements_text(schemas) s(name)
                   WHERE key = 'schema:' || pg_catalog.quote_ident(s.name)
                      OR pg_catalog.left(pg_catalog.substr(key, pg_catalog.strpos(key, ':') + 1),
                                         pg_catalog.length(pg_catalog.quote_ident(s.name)) + 1)
                         = pg_catalog.quote_ident(s.name) || '.'
                      OR (key LIKE 'default\_privileges:%'
                          AND pg_catalog.strpos(key, ' in ' || pg_catalog.quote_ident(s.name) || ' on ') > 0))
$$;

-- Which rows wait for the re-read after a deploy: every transaction that runs DDL asks
-- (dbkit_settle_ddl below), and the table may hold many rows of drift not yet read.
CREATE INDEX dirty_objects_deferred ON dbkit.dirty_objects (id) WHERE deferred;

-- A deploy's objects taken into the reference before the first DDL by hand after it
-- (docs/design.md, "Settled before a change by hand"): when the worker has not yet
-- re-read them, the hand session does, first, so drift reports its change alone.
-- It never fails the statement (a warning at worst) and waits only for the worker.
CREATE FUNCTION dbkit._settle_before_ddl() RETURNS event_trigger
AS 'MODULE_PATHNAME', 'dbkit_settle_before_ddl' LANGUAGE C SET search_path = pg_catalog, pg_temp;
CREATE EVENT TRIGGER dbkit_settle_ddl ON ddl_command_start EXECUTE FUNCTION dbkit._settle_before_ddl();

-- What this script created belongs to whoever ran it. A superuser other than the
-- extension's owner running ALTER EXTENSION dbkit UPDATE left the new tables and
-- functions to itself, while 0.1.0's SECURITY DEFINER audit functions run as the owner:
-- once the owner was no longer a superuser, the audit and every deploy failed on
-- "permission denied for table dirty_objects". They go to the extension's owner, as a
-- fresh install by that owner has them (event triggers stay: only a superuser may own one).
DO $own$
DECLARE
    saved text := pg_catalog.current_setting('search_path');
    ext oid;
    owner oid;
    r record;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);  -- see the first DO block
    SELECT e.oid, e.extowner INTO ext, owner FROM pg_extension e WHERE e.extname = 'dbkit';
    FOR r IN
        SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' ELSE 'TABLE' END AS kind,
               c.oid::regclass::text AS obj
          FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
         WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_extension'::regclass
           AND d.refobjid = ext AND d.deptype = 'e' AND c.relowner <> owner AND c.relkind IN ('r', 'p', 'v', 'S')
           -- a sequence a column owns follows its table
           AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_class'::regclass AND x.objid = c.oid
                              AND x.deptype IN ('a', 'i'))
        UNION ALL
        SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END, p.oid::regprocedure::text
          FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid
         WHERE d.classid = 'pg_proc'::regclass AND d.refclassid = 'pg_extension'::regclass
           AND d.refobjid = ext AND d.deptype = 'e' AND p.proowner <> owner
        UNION ALL
        SELECT 'TYPE', t.oid::regtype::text
          FROM pg_depend d JOIN pg_type t ON t.oid = d.objid
         WHERE d.classid = 'pg_type'::regclass AND d.refclassid = 'pg_extension'::regclass
           AND d.refobjid = ext AND d.deptype = 'e' AND t.typowner <> owner AND t.typtype IN ('c', 'e', 'd')
           AND (t.typrelid = 0 OR (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c')
    LOOP
        EXECUTE format('ALTER %s %s OWNER TO %I', r.kind, r.obj, pg_get_userbyid(owner));
    END LOOP;
    PERFORM pg_catalog.set_config('search_path', saved, true);
END
$own$;

-- An upgraded database whose 0.1.0 reference still matches the live schema (no
-- pending drift, as 0.1.0 saw it) gets a format-2 reference at once, recorded as
-- an event: from now on owners, privileges, rules, ... are watched. One with
-- drift pending keeps its 0.1.0 reference, compared in 0.1.0's terms, until the
-- next run or accept-drift stores a new one (docs/design.md). Last in this
-- script, so that the reference is read by the final dbkit.snapshot().
WITH ref AS (
    SELECT s.id, s.run_id, s.tag, s.snapshot FROM dbkit.snapshots s ORDER BY s.id DESC LIMIT 1
), ok AS (
    SELECT ref.id, ref.tag FROM ref
     WHERE NOT (ref.snapshot ? 'dbkit:format')
       AND NOT EXISTS (SELECT 1 FROM dbkit.events e WHERE (e.detail ->> 'snapshot_skipped')::bool
                          AND e.id > coalesce(ref.run_id, 0))
       AND ref.snapshot = dbkit._live_like(ref.snapshot)
), ev AS (
    INSERT INTO dbkit.events (action, tag, reason, detail)
    SELECT 'upgrade-snapshot', ok.tag, 'dbkit 0.2.0: the schema reference now also covers owners, privileges, rules, '
           'view options, aggregates, operators, casts, publications and replica identity',
           pg_catalog.jsonb_build_object('from_snapshot', ok.id, 'format', 2)
      FROM ok
    RETURNING id, tag
)
INSERT INTO dbkit.snapshots (run_id, tag, fingerprint, catalog_fingerprint, snapshot)
SELECT ev.id, ev.tag, pg_catalog.md5(s::text), dbkit.catalog_fingerprint(), s
  FROM ev, dbkit.snapshot() s;
