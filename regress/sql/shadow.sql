-- The shadow: PostgreSQL builds a desired schema in a subtransaction that is always
-- rolled back; dbkit.snapshot() reads it like the live one. Nothing stays behind,
-- the live schema is untouched, and both sides go through the same deparser.
CREATE DATABASE dbkit_shadow;
\c dbkit_shadow
CREATE EXTENSION dbkit;
CREATE EXTENSION pgcrypto;
\set VERBOSITY default
\i regress/sql/mkfolder.inc

CREATE TABLE live_t (id int PRIMARY KEY, doc jsonb DEFAULT '{"b":1, "a":2}', wait interval DEFAULT interval '15 minutes');
INSERT INTO live_t VALUES (1);
SELECT count(*) AS audit_rows_before FROM dbkit.ddl_audit \gset
CREATE FUNCTION pg_temp.shape(s jsonb) RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_object_agg(key, value - '{owner,acl}'::text[]) FROM jsonb_each(s)
   WHERE key <> 'dbkit:format' AND key NOT LIKE 'function:public.mkfolder(%' $$;
CREATE FUNCTION pg_temp.keys(s jsonb) RETURNS text LANGUAGE sql AS $$
  SELECT string_agg(key, ' ' ORDER BY key) FROM jsonb_each(s)
   WHERE split_part(key, ':', 1) NOT IN ('dbkit', 'extension', 'event_trigger', 'schema') $$;

-- the same table written differently: PostgreSQL stores one thing, so the snapshots are equal
SELECT pg_temp.shape(dbkit_schema_from_sql($$
  create table "live_t" (id integer not null primary key,
    doc jsonb default '{"a": 2,   "b": 1}'::jsonb, wait interval default '00:15:00'::interval);
$$)) = pg_temp.shape(dbkit_snapshot()) AS same_schema;

-- an enum value added then used in the same build (PostgreSQL refuses that in one
-- transaction; the shadow folds the value into CREATE TYPE), CONCURRENTLY, the
-- author's BEGIN/COMMIT, an extension that already exists, a function from it
SELECT pg_temp.keys(s), s -> 'enum:public.mood' -> 'labels' AS labels,
       s -> 'column:public.u.m' ->> 'default' AS m_default,
       s -> 'column:public.u.salt' ->> 'default' AS salt_default,
       s -> 'index:public.u_m' ->> 'definition' AS index_def
  FROM dbkit_schema_from_sql($$
BEGIN;
CREATE EXTENSION pgcrypto;
CREATE TYPE mood AS ENUM ('a', 'b');
COMMIT;
ALTER TYPE mood ADD VALUE 'c' BEFORE 'b';
ALTER TYPE mood ADD VALUE IF NOT EXISTS 'a';
CREATE TABLE u (id int PRIMARY KEY, m mood DEFAULT 'c', salt bytea DEFAULT gen_random_bytes(4));
CREATE INDEX CONCURRENTLY u_m ON u (m DESC NULLS LAST);
VACUUM u;
$$) s;

-- nothing stayed: no shadow schema, the live table and its row, public as it was
SELECT nspname FROM pg_namespace WHERE nspname LIKE 'dbkit_shadow%';
SELECT to_regclass('public.u') AS u_gone, to_regtype('public.mood') AS mood_gone, count(*) AS live_rows FROM live_t;
SELECT pg_get_userbyid(nspowner) AS public_owner FROM pg_namespace WHERE nspname = 'public';
SELECT count(*) - :audit_rows_before AS audited_shadow_ddl FROM dbkit.ddl_audit;

-- a folder's migrations, all of them or up to a tag
CREATE TEMP TABLE f AS SELECT mkfolder('0000_a', 'CREATE TABLE a (id int PRIMARY KEY);',
    '0001_b', 'CREATE SCHEMA app;--> statement-breakpoint
CREATE TABLE app.b (id int REFERENCES public.a (id));',
    '0002_c', 'ALTER TABLE a ADD COLUMN note text;') AS f;
SELECT pg_temp.keys(dbkit_schema_from_folder((SELECT f FROM f)));
SELECT pg_temp.keys(dbkit_schema_from_folder((SELECT f FROM f), '{"through": "0000_a"}'));
SELECT dbkit_schema_from_folder((SELECT f FROM f), '{"through": "0009_nope"}');

-- errors name the file, the statement and its line, and change nothing
SELECT dbkit_schema_from_sql(E'CREATE TABLE x (id int);\nCREATE TABLE y (id nosuchtype);', '{"name": "schema.sql"}');
SELECT dbkit_schema_from_sql(E'CREATE TABLE x (id int);\n\nCREATE TABLE y (id int,);');
SELECT dbkit_schema_from_sql('DROP SCHEMA dbkit CASCADE;');
SELECT dbkit_schema_from_sql('INSERT INTO live_t VALUES (2);');
SELECT dbkit_schema_from_folder((SELECT mkfolder('0000_a', 'CREATE TABLE a (id int);', '0001_b', 'CREATE TABLE a (id int);')));
SELECT count(*) AS live_rows, (SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'dbkit_shadow%') AS shadows FROM live_t;

-- A migration that asks the catalogs by name whether something exists (hand-written
-- "idempotent" blocks, common in real folders) builds it in the shadow too: the live
-- objects of the same names (renamed aside) are not what it finds, whether it asks
-- information_schema, pg_type, pg_constraint, pg_tables or pg_indexes. Written
-- pg_catalog.pg_class, the question still sees them (docs/design.md, "The shadow").
CREATE TYPE status AS ENUM ('a', 'b');
CREATE TABLE users (id int PRIMARY KEY, email text CONSTRAINT users_email_key UNIQUE);
CREATE TABLE jobs (id int);
CREATE INDEX jobs_id_idx ON jobs (id);
SELECT pg_temp.keys(s) FROM dbkit_schema_from_sql($$
CREATE TABLE users (id int PRIMARY KEY);
DO $b$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'email') THEN
    ALTER TABLE users ADD COLUMN email text;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'users_email_key') THEN
    ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
  END IF;
  IF NOT EXISTS (SELECT 1 FROM PG_TYPE WHERE typname = 'status') THEN
    CREATE TYPE status AS ENUM ('a', 'b');
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_tables WHERE tablename = 'jobs') THEN
    CREATE TABLE jobs (id int);
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'jobs_id_idx') THEN
    CREATE INDEX jobs_id_idx ON jobs (id);
  END IF;
END $b$;
$$) s;
-- Only DO blocks meet the stand-ins: a view a migration makes over pg_class, in the same
-- source as such a block, is bound to the catalog (not made temporary by a temporary view).
-- The same for information_schema: a view over it reads the real one (nothing of dbkit's
-- stand-in among what it depends on, as live).
SELECT s ? 'view:public.rel_names' AS view_built, s ? 'table:public.jobs' AS table_built,
       s -> 'view:public.is_cols' -> 'depends_on' AS is_cols_depends_on
  FROM dbkit_schema_from_sql($$
DO $b$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_class WHERE relname = 'jobs')
     AND NOT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_name = 'jobs') THEN
    CREATE TABLE jobs (id int);
  END IF;
END $b$;
CREATE VIEW rel_names AS SELECT relname FROM pg_class;
CREATE VIEW is_cols AS SELECT table_name, column_name FROM information_schema.columns;
$$) s;
-- The stand-ins are gone before the schema is read, even when the last statement is such a
-- DO block: a view made earlier reads information_schema by its own name.
SELECT s -> 'view:public.tnames' ->> 'definition' AS tnames
  FROM dbkit_schema_from_sql($$
CREATE VIEW tnames AS SELECT table_name FROM information_schema.tables;
DO $b$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'x') THEN CREATE TABLE x (id int); END IF;
END $b$;
$$) s;
-- A DO block that makes a view over a name stood in for stops the shadow, saying why (a
-- view over a temporary one would be temporary, and lost).
SELECT dbkit_schema_from_sql($$
DO $b$ BEGIN CREATE VIEW vb AS SELECT relname FROM pg_class; END $b$;
$$);
SELECT dbkit_schema_from_sql($$
DO $b$ BEGIN CREATE VIEW public.vb AS SELECT relname FROM pg_class; END $b$;
$$);
-- ... and afterwards every name is PostgreSQL's again
SELECT (SELECT count(*) FROM information_schema.columns WHERE table_name = 'users') AS users_columns,
       (SELECT count(*) FROM pg_type WHERE typname = 'status') AS status_types,
       (SELECT count(*) FROM pg_class WHERE relname = 'pg_type' AND relpersistence = 't') AS temp_views,
       (SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'dbkit_shadow%') AS shadows;

-- The stand-ins read what they stand for with the caller's rights: a role that may not
-- read information_schema._pg_user_mappings (other roles' passwords) still may not in
-- the shadow, and reads information_schema.columns as before.
CREATE ROLE dbkit_shadow_alice;
CREATE FOREIGN DATA WRAPPER shadow_fdw;
CREATE SERVER shadow_remote FOREIGN DATA WRAPPER shadow_fdw;
GRANT USAGE ON FOREIGN SERVER shadow_remote TO dbkit_shadow_alice;
CREATE USER MAPPING FOR CURRENT_USER SERVER shadow_remote OPTIONS (password 'not-alice-s');
ALTER SCHEMA public OWNER TO dbkit_shadow_alice;
GRANT CREATE ON DATABASE dbkit_shadow TO dbkit_shadow_alice;
SELECT count(*) > 0 AS granted FROM dbkit_grant_deployer('dbkit_shadow_alice');
ALTER SCHEMA drizzle OWNER TO dbkit_shadow_alice;
GRANT SELECT ON users TO dbkit_shadow_alice;  -- so information_schema shows her the live one
SET ROLE dbkit_shadow_alice;
SELECT dbkit_schema_from_sql($$
DO $b$ BEGIN
  RAISE EXCEPTION 'read: %', (SELECT string_agg(umoptions::text, ';') FROM information_schema._pg_user_mappings);
END $b$;
$$);
SELECT pg_temp.keys(s) FROM dbkit_schema_from_sql($$
CREATE TABLE users (id int PRIMARY KEY);
DO $b$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'email') THEN
    ALTER TABLE users ADD COLUMN email text;
  END IF;
END $b$;
$$) s;
RESET ROLE;
ALTER SCHEMA public OWNER TO pg_database_owner;
ALTER SCHEMA drizzle OWNER TO CURRENT_USER;
DROP OWNED BY dbkit_shadow_alice;
DROP ROLE dbkit_shadow_alice;

-- A schema the sources use but never create, which exists live (a platform's, as
-- Supabase's auth): the shadow stands in for it with a copy of the live one (its
-- enums, tables, views, functions). What the copy holds is left out of what was
-- built; what the sources add there (a trigger on auth.users) is in it, and the
-- side names the schema, so that comparisons leave out what only the live one holds.
CREATE SCHEMA auth;
CREATE TYPE auth.level AS ENUM ('a', 'b');
CREATE TABLE auth.users (id uuid PRIMARY KEY, level auth.level);
CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $$ SELECT NULL::uuid $$;
-- the platform's code never runs in the build: its functions stand in with empty bodies
CREATE FUNCTION auth.noisy() RETURNS int LANGUAGE plpgsql AS $$BEGIN RAISE NOTICE 'the platform''s code ran'; RETURN 1; END$$;
CREATE SCHEMA storage;  -- not used by the sources: compared as before
SELECT key, CASE WHEN key = 'dbkit:format' THEN value -> 'environment_schemas' END AS environment
  FROM jsonb_each(dbkit_schema_from_sql($$
CREATE TABLE profiles (id uuid PRIMARY KEY REFERENCES auth.users (id), level auth.level);
CREATE POLICY own ON profiles USING (id = auth.uid());
CREATE FUNCTION on_signup() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN new; END';
CREATE TRIGGER signup AFTER INSERT ON auth.users FOR EACH ROW EXECUTE FUNCTION on_signup();
CREATE TABLE counters (v int DEFAULT auth.noisy());
INSERT INTO counters DEFAULT VALUES;
$$)) WHERE key NOT LIKE 'event_trigger:%' AND key NOT LIKE 'extension:%' ORDER BY key;
-- the shadow was rolled back: the live auth is untouched
SELECT count(*) AS triggers_on_live_auth_users FROM pg_trigger WHERE tgrelid = 'auth.users'::regclass AND NOT tgisinternal;
DROP SCHEMA auth, storage CASCADE;

-- Without TEMPORARY on the database, the catalog's names cannot be stood in for: the
-- shadow says so (the live type is found, so the statement builds nothing).
SELECT current_user AS superuser \gset
CREATE ROLE dbkit_shadow_bob LOGIN;
ALTER SCHEMA public OWNER TO dbkit_shadow_bob;
ALTER SCHEMA drizzle OWNER TO dbkit_shadow_bob;
GRANT CREATE ON DATABASE dbkit_shadow TO dbkit_shadow_bob;
SELECT count(*) > 0 AS granted FROM dbkit_grant_deployer('dbkit_shadow_bob');
REVOKE TEMPORARY ON DATABASE dbkit_shadow FROM PUBLIC;
\c dbkit_shadow dbkit_shadow_bob
SELECT s ? 'enum:public.status' AS built FROM dbkit_schema_from_sql($$
DO $b$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'status') THEN CREATE TYPE status AS ENUM ('a'); END IF; END $b$;
$$) s;
\c dbkit_shadow :superuser
GRANT TEMPORARY ON DATABASE dbkit_shadow TO PUBLIC;
ALTER SCHEMA public OWNER TO pg_database_owner;
ALTER SCHEMA drizzle OWNER TO CURRENT_USER;
DROP OWNED BY dbkit_shadow_bob;
DROP ROLE dbkit_shadow_bob;
