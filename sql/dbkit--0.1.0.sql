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
