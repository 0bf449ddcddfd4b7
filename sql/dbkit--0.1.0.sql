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
