-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION dbkit" to load this file. \quit

-- dbkit's state lives in schema dbkit; its functions in the extension's schema
-- (public by default), so SELECT dbkit_status() works with the default search_path.
CREATE SCHEMA dbkit;
COMMENT ON SCHEMA dbkit IS 'dbkit migration history and audit (managed by the dbkit extension)';

-- One row per applied run or repair: who, when, what, why.
CREATE TABLE dbkit.events (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    actor       text NOT NULL DEFAULT session_user,
    action      text NOT NULL,          -- apply | mark-applied | baseline | forget | accept-change
    tag         text,
    reason      text,
    client      text,                   -- application_name of the session
    detail      jsonb
);

-- One row per migration the database has (applied, adopted from drizzle, marked or baselined).
CREATE TABLE dbkit.migrations (
    id          bigserial PRIMARY KEY,  -- history order: newest last
    tag         text NOT NULL UNIQUE,
    idx         integer NOT NULL,
    hash        text NOT NULL,          -- sha256 hex of the file's bytes (drizzle's hash)
    created_at  bigint,                 -- the journal's `when` (ms), as drizzle stores it
    applied_at  timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    applied_by  text NOT NULL DEFAULT session_user,
    duration_ms double precision,
    statements  integer,
    how         text NOT NULL CHECK (how IN ('applied', 'adopted', 'marked', 'baseline')),
    run_id      bigint REFERENCES dbkit.events (id)
);

-- pg_dump keeps dbkit's history with the database.
SELECT pg_catalog.pg_extension_config_dump('dbkit.events', '');
SELECT pg_catalog.pg_extension_config_dump('dbkit.migrations', '');
SELECT pg_catalog.pg_extension_config_dump('dbkit.events_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('dbkit.migrations_id_seq', '');

CREATE FUNCTION @extschema@.dbkit_apply(folder jsonb, options jsonb DEFAULT '{}')
RETURNS TABLE (idx integer, tag text, action text, statements integer, duration_ms double precision,
               hash text, note text)
AS 'MODULE_PATHNAME', 'dbkit_apply' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.dbkit_apply(jsonb, jsonb) IS
    'Apply the pending migrations of a drizzle-kit folder in the current transaction';

CREATE FUNCTION dbkit._folder_status(folder jsonb, options jsonb DEFAULT '{}')
RETURNS TABLE (idx integer, tag text, state text, file text, file_hash text, applied_hash text,
               created_at bigint, note text)
AS 'MODULE_PATHNAME', 'dbkit_folder_status' LANGUAGE C STABLE;

-- The history, newest last.
CREATE FUNCTION @extschema@.dbkit_status()
RETURNS TABLE (tag text, idx integer, hash text, created_at bigint, applied_at timestamptz, applied_by text,
               duration_ms double precision, statements integer, how text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT m.tag, m.idx, m.hash, m.created_at, m.applied_at, m.applied_by, m.duration_ms, m.statements, m.how
      FROM dbkit.migrations m
     ORDER BY m.id
$$;
COMMENT ON FUNCTION @extschema@.dbkit_status() IS 'Migrations recorded in this database, newest last';

-- Every migration of a folder with its state: applied, adoptable, pending, out_of_order, modified, missing.
CREATE FUNCTION @extschema@.dbkit_status(folder jsonb, options jsonb DEFAULT '{}')
RETURNS TABLE (idx integer, tag text, state text, file text, applied_at timestamptz, applied_by text,
               how text, file_hash text, applied_hash text, note text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s.idx, s.tag, s.state, s.file, m.applied_at, m.applied_by, m.how, s.file_hash, s.applied_hash, s.note
      FROM dbkit._folder_status(folder, options) WITH ORDINALITY AS s
      LEFT JOIN dbkit.migrations m ON m.tag = s.tag
     ORDER BY s.ordinality
$$;
COMMENT ON FUNCTION @extschema@.dbkit_status(jsonb, jsonb) IS
    'Every migration of a folder with its state against this database';

-- Monitoring roles read, never write.
GRANT USAGE ON SCHEMA dbkit TO pg_monitor;
GRANT SELECT ON dbkit.migrations, dbkit.events TO pg_monitor;

-- Every finding about a folder: the journal, the files, the snapshots, each
-- statement through PostgreSQL's parser, and the folder against this history.
CREATE FUNCTION @extschema@.dbkit_validate(folder jsonb, options jsonb DEFAULT '{}')
RETURNS TABLE (severity text, code text, subject text, message text, hint text)
AS 'MODULE_PATHNAME', 'dbkit_validate' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.dbkit_validate(jsonb, jsonb) IS
    'Check a migrations folder (and it against this database); one row per finding, nothing changed';

-- History repair. Each is recorded in dbkit.events with who, when and the reason.
CREATE FUNCTION dbkit._repair(action text, folder jsonb, tag text, reason text, options jsonb)
RETURNS TABLE (tag text, idx integer, action text, hash text)
AS 'MODULE_PATHNAME', 'dbkit_repair' LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.dbkit_mark_applied(folder jsonb, tag text, reason text, options jsonb DEFAULT '{}')
RETURNS TABLE (tag text, idx integer, action text, hash text)
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT * FROM dbkit._repair('mark-applied', folder, tag, reason, options) $$;
COMMENT ON FUNCTION @extschema@.dbkit_mark_applied(jsonb, text, text, jsonb) IS
    'Record a migration as applied without running it (the change was made by hand)';

CREATE FUNCTION @extschema@.dbkit_baseline(folder jsonb, tag text, reason text DEFAULT NULL, options jsonb DEFAULT '{}')
RETURNS TABLE (tag text, idx integer, action text, hash text)
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT * FROM dbkit._repair('baseline', folder, tag, reason, options) $$;
COMMENT ON FUNCTION @extschema@.dbkit_baseline(jsonb, text, text, jsonb) IS
    'Record that the database is at TAG: TAG and every migration before it, without running them';

CREATE FUNCTION @extschema@.dbkit_forget(tag text, reason text, options jsonb DEFAULT '{}')
RETURNS TABLE (tag text, idx integer, action text, hash text)
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT * FROM dbkit._repair('forget', NULL, tag, reason, options) $$;
COMMENT ON FUNCTION @extschema@.dbkit_forget(text, text, jsonb) IS
    'Drop a migration from the history (after rolling it back by hand)';

CREATE FUNCTION @extschema@.dbkit_accept_change(folder jsonb, tag text, reason text, options jsonb DEFAULT '{}')
RETURNS TABLE (tag text, idx integer, action text, hash text)
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT * FROM dbkit._repair('accept-change', folder, tag, reason, options) $$;
COMMENT ON FUNCTION @extschema@.dbkit_accept_change(jsonb, text, text, jsonb) IS
    'Re-record the hash of an applied migration whose file was edited on purpose';

------------------------------------------------------------------------------
-- Schema snapshots and drift
------------------------------------------------------------------------------

-- The canonical description of the user's schema: a flat jsonb object keyed
-- "<kind>:<qualified name>", built set-based from the catalogs. No OIDs, no
-- statistics, no storage details: stable across dump/restore and VACUUM FULL.
-- PostgreSQL's own schemas, dbkit's, drizzle's tracking schema and objects that
-- belong to extensions are left out.
CREATE FUNCTION dbkit.snapshot()
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
SET DateStyle = 'ISO, YMD'
SET IntervalStyle = 'postgres'
SET TimeZone = 'UTC'
SET extra_float_digits = 1
AS $$
WITH ext AS (
    SELECT classid, objid FROM pg_depend WHERE deptype = 'e'
), ns AS (
    SELECT n.oid, n.nspname FROM pg_namespace n
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'dbkit', 'drizzle')
       AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
       AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_namespace'::regclass AND ext.objid = n.oid)
), rel AS (
    SELECT c.oid, c.relname, c.relkind, ns.nspname, format('%I.%I', ns.nspname, c.relname) AS qname,
           c.relpersistence, c.relispartition, c.relpartbound, c.relrowsecurity, c.relforcerowsecurity, c.reloptions
      FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S', 'c')
       AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)
), item(key, value) AS (
    SELECT 'schema:' || quote_ident(nspname), '{}'::jsonb FROM ns
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
               'options', to_jsonb(r.reloptions)))
      FROM rel r WHERE r.relkind IN ('r', 'p', 'f')
    UNION ALL
    SELECT 'column:' || r.qname || '.' || quote_ident(a.attname),
           jsonb_strip_nulls(jsonb_build_object(
               'position', row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum),
               'type', format_type(a.atttypid, a.atttypmod),
               'not_null', a.attnotnull,
               'default', CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END,
               'generated', CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END,
               'identity', CASE a.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by default' END,
               'collation', CASE WHEN a.attcollation <> t.typcollation
                                 THEN (SELECT format('%I.%I', cn.nspname, co.collname) FROM pg_collation co
                                         JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation) END))
      FROM rel r
      JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
      JOIN pg_type t ON t.oid = a.atttypid
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE r.relkind IN ('r', 'p', 'f')
    UNION ALL
    SELECT 'constraint:' || r.qname || '.' || quote_ident(co.conname),
           jsonb_build_object('type', CASE co.contype WHEN 'p' THEN 'primary key' WHEN 'u' THEN 'unique'
                                      WHEN 'f' THEN 'foreign key' WHEN 'c' THEN 'check' WHEN 'x' THEN 'exclusion'
                                      WHEN 't' THEN 'trigger' ELSE co.contype::text END,
                              'definition', pg_get_constraintdef(co.oid, true))
      FROM pg_constraint co JOIN rel r ON r.oid = co.conrelid
     WHERE r.relkind IN ('r', 'p', 'f')
    UNION ALL
    SELECT 'index:' || format('%I.%I', ns.nspname, ic.relname),
           jsonb_strip_nulls(jsonb_build_object('table', r.qname, 'definition', pg_get_indexdef(i.indexrelid),
                                                'invalid', CASE WHEN NOT i.indisvalid THEN true END))
      FROM pg_index i JOIN rel r ON r.oid = i.indrelid
      JOIN pg_class ic ON ic.oid = i.indexrelid JOIN ns ON ns.oid = ic.relnamespace
    UNION ALL
    SELECT 'sequence:' || r.qname,
           jsonb_build_object('type', format_type(s.seqtypid, NULL), 'start', s.seqstart, 'increment', s.seqincrement,
                              'min', s.seqmin, 'max', s.seqmax, 'cache', s.seqcache, 'cycle', s.seqcycle)
      FROM rel r JOIN pg_sequence s ON s.seqrelid = r.oid
     WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = r.oid
                          AND d.deptype = 'i')
    UNION ALL
    SELECT CASE r.relkind WHEN 'v' THEN 'view:' ELSE 'materialized_view:' END || r.qname,
           jsonb_build_object('definition', pg_get_viewdef(r.oid, true))
      FROM rel r WHERE r.relkind IN ('v', 'm')
    UNION ALL
    SELECT CASE p.prokind WHEN 'p' THEN 'procedure:' ELSE 'function:' END
               || (pg_identify_object('pg_proc'::regclass, p.oid, 0)).identity,
           jsonb_build_object('definition', pg_get_functiondef(p.oid))
      FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
     WHERE p.prokind IN ('f', 'p', 'w')
       AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_proc'::regclass AND ext.objid = p.oid)
    UNION ALL
    SELECT 'trigger:' || r.qname || '.' || quote_ident(tg.tgname),
           jsonb_build_object('definition', pg_get_triggerdef(tg.oid, true), 'enabled', tg.tgenabled::text)
      FROM pg_trigger tg JOIN rel r ON r.oid = tg.tgrelid
     WHERE NOT tg.tgisinternal AND tg.tgparentid = 0
    UNION ALL
    SELECT 'enum:' || format('%I.%I', ns.nspname, t.typname),
           jsonb_build_object('labels', (SELECT jsonb_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e
                                          WHERE e.enumtypid = t.oid))
      FROM pg_type t JOIN ns ON ns.oid = t.typnamespace
     WHERE t.typtype = 'e'
       AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_type'::regclass AND ext.objid = t.oid)
    UNION ALL
    SELECT 'domain:' || format('%I.%I', ns.nspname, t.typname),
           jsonb_strip_nulls(jsonb_build_object(
               'type', format_type(t.typbasetype, t.typtypmod), 'not_null', t.typnotnull, 'default', t.typdefault,
               'constraints', (SELECT jsonb_object_agg(c.conname, pg_get_constraintdef(c.oid, true))
                                 FROM pg_constraint c WHERE c.contypid = t.oid)))
      FROM pg_type t JOIN ns ON ns.oid = t.typnamespace
     WHERE t.typtype = 'd'
       AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_type'::regclass AND ext.objid = t.oid)
    UNION ALL
    SELECT 'type:' || r.qname,
           jsonb_build_object('attributes', (SELECT jsonb_agg(jsonb_build_array(a.attname, format_type(a.atttypid, a.atttypmod))
                                                               ORDER BY a.attnum)
                                               FROM pg_attribute a WHERE a.attrelid = r.oid AND a.attnum > 0
                                                AND NOT a.attisdropped))
      FROM rel r WHERE r.relkind = 'c'
    UNION ALL
    SELECT 'extension:' || quote_ident(e.extname),
           jsonb_build_object('version', e.extversion, 'schema', (SELECT nspname FROM pg_namespace WHERE oid = e.extnamespace))
      FROM pg_extension e WHERE e.extname <> 'dbkit'
    UNION ALL
    SELECT 'policy:' || r.qname || '.' || quote_ident(pol.polname),
           jsonb_strip_nulls(jsonb_build_object(
               'command', CASE pol.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                                          WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
               'permissive', pol.polpermissive,
               'roles', (SELECT jsonb_agg(CASE WHEN x = 0 THEN 'public' ELSE (SELECT rolname FROM pg_roles WHERE oid = x) END
                                          ORDER BY 1) FROM unnest(pol.polroles) x),
               'using', pg_get_expr(pol.polqual, pol.polrelid),
               'with_check', pg_get_expr(pol.polwithcheck, pol.polrelid)))
      FROM pg_policy pol JOIN rel r ON r.oid = pol.polrelid
)
SELECT coalesce(jsonb_object_agg(key, value), '{}'::jsonb) FROM item
$$;

CREATE FUNCTION @extschema@.dbkit_snapshot()
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT dbkit.snapshot() $$;
COMMENT ON FUNCTION @extschema@.dbkit_snapshot() IS
    'Canonical jsonb description of the user schemas (tables, columns, constraints, indexes, ...), stable across runs';

-- The schema as the migrations left it: stored after every run that changed the history.
CREATE TABLE dbkit.snapshots (
    id          bigserial PRIMARY KEY,
    run_id      bigint REFERENCES dbkit.events (id) ON DELETE SET NULL,
    tag         text,                   -- the last migration of the run
    taken_at    timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    fingerprint text NOT NULL,          -- md5 of the snapshot's text
    catalog_fingerprint text,           -- dbkit.catalog_fingerprint() when it was taken
    snapshot    jsonb NOT NULL
);

-- A cheap fingerprint of the catalog rows dbkit.snapshot() reads: every DDL
-- statement writes such rows with a new xmin, while ANALYZE and VACUUM update
-- them in place. Equal fingerprints mean the snapshot would be equal, so
-- dbkit_drift() can answer without rebuilding it; a different fingerprint (after
-- DDL, GRANT, VACUUM FULL, ...) only means the full comparison runs.
CREATE FUNCTION dbkit.catalog_fingerprint()
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
) f(part)
$$;

-- DDL run outside dbkit_apply, recorded by event triggers (setting dbkit.audit).
CREATE TABLE dbkit.ddl_audit (
    id               bigserial NOT NULL,    -- no unique key: a restore loads old rows beside new ones
    at               timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    event            text NOT NULL,     -- ddl_command_end | sql_drop
    command_tag      text,
    object_type      text,
    object_identity  text,
    schema_name      text,
    session_user_name text NOT NULL DEFAULT session_user,
    current_user_name text,                 -- the role in effect (SET ROLE), not the audit function's owner
    application_name text,
    client_addr      inet,
    backend_pid      integer,
    statement        text
);
CREATE INDEX ddl_audit_at ON dbkit.ddl_audit (at);

SELECT pg_catalog.pg_extension_config_dump('dbkit.snapshots', '');
SELECT pg_catalog.pg_extension_config_dump('dbkit.ddl_audit', '');
SELECT pg_catalog.pg_extension_config_dump('dbkit.snapshots_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('dbkit.ddl_audit_id_seq', '');
GRANT SELECT ON dbkit.snapshots, dbkit.ddl_audit TO pg_monitor;

-- The audit functions run as their owner so that any role's DDL is recorded
-- without giving it write access to dbkit's tables; they run no user SQL.
CREATE FUNCTION dbkit._audit_ddl() RETURNS event_trigger
AS 'MODULE_PATHNAME', 'dbkit_audit_ddl' LANGUAGE C SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
CREATE FUNCTION dbkit._audit_drop() RETURNS event_trigger
AS 'MODULE_PATHNAME', 'dbkit_audit_drop' LANGUAGE C SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
CREATE EVENT TRIGGER dbkit_audit_ddl ON ddl_command_end EXECUTE FUNCTION dbkit._audit_ddl();
CREATE EVENT TRIGGER dbkit_audit_drop ON sql_drop EXECUTE FUNCTION dbkit._audit_drop();

-- Differences between the live schema and the one the last run recorded; no rows: no drift.
CREATE FUNCTION @extschema@.dbkit_drift()
RETURNS TABLE (kind text, object text, change text, detail text, expected jsonb, actual jsonb, audit jsonb)
AS 'MODULE_PATHNAME', 'dbkit_drift' LANGUAGE C STABLE;
COMMENT ON FUNCTION @extschema@.dbkit_drift() IS
    'Schema changes made outside the migrations since the last run, with the DDL audit entries that explain them';

-- Accept the live schema as the new reference (after reviewing dbkit_drift()).
CREATE FUNCTION @extschema@.dbkit_accept_drift(reason text)
RETURNS TABLE (objects integer, fingerprint text)
AS 'MODULE_PATHNAME', 'dbkit_accept_drift' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.dbkit_accept_drift(text) IS
    'Record the live schema as the reference for dbkit_drift(), with the reason, in dbkit.events';

-- The live schema against what the code declares: the newest drizzle snapshot
-- of the folder (tables, columns, indexes, keys, enums). No rows: no drift.
CREATE FUNCTION @extschema@.dbkit_drift_code(folder jsonb)
RETURNS TABLE (kind text, object text, change text, detail text, expected jsonb, actual jsonb, snapshot text)
AS 'MODULE_PATHNAME', 'dbkit_drift_code' LANGUAGE C STABLE;
COMMENT ON FUNCTION @extschema@.dbkit_drift_code(jsonb) IS
    'Differences between the live schema and the newest drizzle snapshot of a folder (what the code declares)';

-- Lint with PostgreSQL's parser: data loss, long locks and rewrites, transaction
-- hazards, schema smells. Severity follows the table's real size when it exists.
-- A rule is waived in a migration with a comment: -- dbkit:allow <rule> ...
CREATE FUNCTION @extschema@.dbkit_lint(sql text)
RETURNS TABLE (severity text, rule text, statement integer, line integer, message text, hint text)
AS 'MODULE_PATHNAME', 'dbkit_lint' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.dbkit_lint(text) IS 'Lint one migration''s SQL text (docs/lint.md lists the rules)';

CREATE FUNCTION @extschema@.dbkit_lint_folder(folder jsonb, options jsonb DEFAULT '{}')
RETURNS TABLE (tag text, file text, severity text, rule text, statement integer, line integer, message text, hint text)
AS 'MODULE_PATHNAME', 'dbkit_lint_folder' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.dbkit_lint_folder(jsonb, jsonb) IS 'Lint the pending migrations of a folder against this database';

------------------------------------------------------------------------------
-- Safe apply: non-transactional migrations, dry run
------------------------------------------------------------------------------

-- Progress of a non-transactional migration, committed statement by statement.
CREATE TABLE dbkit.progress (
    tag            text PRIMARY KEY,
    hash           text NOT NULL,
    idx            integer,
    created_at     bigint,
    statements     integer NOT NULL,
    next_statement integer NOT NULL,        -- the first statement not yet done
    status         text NOT NULL CHECK (status IN ('running', 'failed')),
    error          text,
    started_at     timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    updated_at     timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    started_by     text NOT NULL DEFAULT session_user
);
SELECT pg_catalog.pg_extension_config_dump('dbkit.progress', '');
GRANT SELECT ON dbkit.progress TO pg_monitor;

CREATE FUNCTION @extschema@.dbkit_nontx_start(folder jsonb, tag text, options jsonb DEFAULT '{}')
RETURNS TABLE (statement integer, line integer, sql text, lock_timeout_ms bigint, statement_timeout_ms bigint,
               lock_retries integer, retry_delay_ms bigint)
AS 'MODULE_PATHNAME', 'dbkit_nontx_start' LANGUAGE C VOLATILE;
CREATE FUNCTION @extschema@.dbkit_nontx_step(tag text, statement integer, ok boolean, error text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'dbkit_nontx_step' LANGUAGE C VOLATILE;
CREATE FUNCTION @extschema@.dbkit_nontx_finish(folder jsonb, tag text, options jsonb DEFAULT '{}')
RETURNS TABLE (idx integer, tag text, action text, statements integer, duration_ms double precision,
               hash text, note text)
AS 'MODULE_PATHNAME', 'dbkit_nontx_finish' LANGUAGE C VOLATILE;

-- Runs the pending migrations for real in a subtransaction that is rolled back:
-- one row per statement with its duration, rows, the locks it took and whether
-- it rewrote a table. Nothing remains, history included.
CREATE FUNCTION @extschema@.dbkit_dry_run(folder jsonb, options jsonb DEFAULT '{}')
RETURNS TABLE (tag text, statement integer, line integer, command text, duration_ms double precision,
               rows bigint, locks text, rewrites text, note text)
AS 'MODULE_PATHNAME', 'dbkit_dry_run' LANGUAGE C VOLATILE;
