-- ALTER EXTENSION dbkit UPDATE from the released 0.1.0 keeps a database's history,
-- events, snapshots, audit and drizzle's table, and leaves the extension exactly as a
-- fresh install of the current version builds it.
CREATE DATABASE dbkit_upgrade;
\c dbkit_upgrade
\set VERBOSITY default
CREATE EXTENSION dbkit VERSION '0.1.0';
SELECT extversion FROM pg_extension WHERE extname = 'dbkit';

\i regress/sql/mkfolder.inc

-- The library is 0.2.0: every dbkit function refuses SQL objects of another version
-- with the command that fixes it, rather than failing half-way on a missing object.
SELECT * FROM dbkit_apply(mkfolder('0000_users', 'CREATE TABLE "users" ("id" serial PRIMARY KEY);'));
SELECT * FROM dbkit_status();

-- a 0.1.0 database that holds history, as a 0.1.0 dbkit left it: two migrations applied
-- (tables, history rows, the run's event, drizzle's table in step, the reference
-- snapshot taken by 0.1.0's dbkit.snapshot()), then DDL made by hand (audited).
CREATE TABLE "users" ("id" serial PRIMARY KEY, "email" text NOT NULL);
CREATE TABLE "posts" ("id" serial PRIMARY KEY, "user_id" integer);
CREATE INDEX "posts_user_id_idx" ON "posts" ("user_id");
-- (an identity with sequence options, which 0.1.0's snapshot did not describe)
CREATE TABLE "ids" ("id" integer GENERATED ALWAYS AS IDENTITY (START WITH 5 INCREMENT BY 3) PRIMARY KEY);
INSERT INTO dbkit.events (action, tag, detail) VALUES ('apply', '0001_posts', '{"applied": 2}');
INSERT INTO dbkit.migrations (tag, idx, hash, created_at, duration_ms, statements, how, run_id)
SELECT f.key, left(f.key, 4)::int, encode(sha256(convert_to(f.value #>> '{}', 'UTF8')), 'hex'),
       1795644700000 + left(f.key, 4)::int, 1.5, 1, 'applied', 1
  FROM jsonb_each((mkfolder(
  '0000_users', 'CREATE TABLE "users" ("id" serial PRIMARY KEY, "email" text NOT NULL);',
  '0001_posts', E'CREATE TABLE "posts" ("id" serial PRIMARY KEY, "user_id" integer);--> statement-breakpoint\n' ||
                'CREATE INDEX "posts_user_id_idx" ON "posts" ("user_id");'))->'files') f
 ORDER BY f.key;
UPDATE dbkit.migrations SET tag = replace(tag, '.sql', '');
CREATE SCHEMA drizzle;
CREATE TABLE drizzle.__drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint);
INSERT INTO drizzle.__drizzle_migrations (hash, created_at) SELECT hash, created_at FROM dbkit.migrations ORDER BY id;
INSERT INTO dbkit.snapshots (run_id, tag, fingerprint, catalog_fingerprint, snapshot)
SELECT 1, '0001_posts', md5(s::text), dbkit.catalog_fingerprint(), s FROM dbkit.snapshot() s;
CREATE TABLE hand_made (id integer);
SELECT count(*) > 0 AS audited FROM dbkit.ddl_audit WHERE object_identity = 'public.hand_made';

-- what must survive the update, row for row
CREATE TABLE kept AS
-- dbkit.migrations: 0.1.0's columns (0.2.0 adds down_hash, NULL for rows recorded before)
SELECT 'migrations' AS what, count(*) AS n, md5(string_agg((m.id, m.tag, m.idx, m.hash, m.created_at, m.applied_at, m.applied_by, m.duration_ms, m.statements, m.how, m.run_id)::text, '|' ORDER BY m.id)) AS digest FROM dbkit.migrations m
UNION ALL SELECT 'events', count(*), md5(string_agg(e::text, '|' ORDER BY e.id)) FROM dbkit.events e
-- (0.2.0 adds a column to dbkit.snapshots, `changes`: the rows are compared on 0.1.0's columns)
UNION ALL SELECT 'snapshots', count(*), md5(string_agg((s.id, s.run_id, s.tag, s.taken_at, s.fingerprint, s.catalog_fingerprint, s.snapshot)::text, '|' ORDER BY s.id)) FROM dbkit.snapshots s
UNION ALL SELECT 'ddl_audit', count(*), md5(string_agg(a::text, '|' ORDER BY a.id)) FROM dbkit.ddl_audit a
UNION ALL SELECT 'drizzle', count(*), md5(string_agg(d::text, '|' ORDER BY d.id)) FROM drizzle.__drizzle_migrations d;
SELECT what, n FROM kept ORDER BY what;

ALTER EXTENSION dbkit UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'dbkit';

-- every row is still there, unchanged (the update may add rows of its own only to events)
SELECT k.what, k.n, k.digest = now.digest AS unchanged
  FROM kept k
  JOIN (SELECT 'migrations' AS what, md5(string_agg((m.id, m.tag, m.idx, m.hash, m.created_at, m.applied_at, m.applied_by, m.duration_ms, m.statements, m.how, m.run_id)::text, '|' ORDER BY m.id)) AS digest FROM dbkit.migrations m
        UNION ALL SELECT 'events', md5(string_agg(e::text, '|' ORDER BY e.id))
                    FROM dbkit.events e WHERE e.id <= (SELECT n FROM kept WHERE what = 'events')
        UNION ALL SELECT 'snapshots', md5(string_agg((s.id, s.run_id, s.tag, s.taken_at, s.fingerprint, s.catalog_fingerprint, s.snapshot)::text, '|' ORDER BY s.id))
                    FROM dbkit.snapshots s WHERE s.id <= (SELECT n FROM kept WHERE what = 'snapshots')
        UNION ALL SELECT 'ddl_audit', md5(string_agg(a::text, '|' ORDER BY a.id))
                    FROM dbkit.ddl_audit a WHERE a.id <= (SELECT n FROM kept WHERE what = 'ddl_audit')
        UNION ALL SELECT 'drizzle', md5(string_agg(d::text, '|' ORDER BY d.id)) FROM drizzle.__drizzle_migrations d) now
    USING (what)
 ORDER BY k.what;

SELECT count(*) AS rows_with_down_hash FROM dbkit.migrations WHERE down_hash IS NOT NULL;

-- the updated extension works on the old state: status, drift (the hand-made table
-- is still reported), and a new migration applies on top of the old history; the
-- drift pending against the 0.1.0 reference is carried by that deploy, not absorbed:
-- still reported after it, until accepted
SELECT tag, how FROM dbkit_status() ORDER BY idx;
SELECT kind, object, change FROM dbkit_drift() WHERE object LIKE '%hand_made%';
SELECT tag, action FROM dbkit_apply(mkfolder(
  '0000_users', 'CREATE TABLE "users" ("id" serial PRIMARY KEY, "email" text NOT NULL);',
  '0001_posts', E'CREATE TABLE "posts" ("id" serial PRIMARY KEY, "user_id" integer);--> statement-breakpoint\n' ||
                'CREATE INDEX "posts_user_id_idx" ON "posts" ("user_id");',
  '0002_tags', 'CREATE TABLE "tags" ("id" serial PRIMARY KEY);'));
SELECT kind, object, change FROM dbkit_drift() WHERE object LIKE '%hand_made%';
SELECT kind, object, change FROM dbkit_drift() WHERE object NOT LIKE '%hand_made%';  -- this test's own table kept, made by hand too
SELECT objects > 0 AS accepted FROM dbkit_accept_drift('hand_made was made on purpose');
SELECT count(*) AS drift_after_accept FROM dbkit_drift();
-- the reference now holds the identity's sequence options: changing one is drift
SELECT dbkit.reference() -> 'column:public.ids.id' -> 'identity_options' AS ids_options;
ALTER TABLE ids ALTER COLUMN id SET INCREMENT BY 4;
SELECT kind, object, change, detail FROM dbkit_drift();
ALTER TABLE ids ALTER COLUMN id SET INCREMENT BY 3;
SELECT count(*) AS drift_after_undo FROM dbkit_drift();
SELECT count(*) AS history, (SELECT count(*) FROM drizzle.__drizzle_migrations) AS drizzle FROM dbkit.migrations;

-- Fresh and upgraded installs are identical: every object of the extension with what
-- defines it (signatures, bodies, settings, grants, columns, defaults, indexes,
-- event triggers, dump configuration), compared in both directions.
CREATE FUNCTION describe_dbkit() RETURNS TABLE (item text) LANGUAGE sql AS $$
  SELECT 'function ' || p.oid::regprocedure::text || ' -> ' || pg_get_function_result(p.oid)
         || ' secdef=' || p.prosecdef || ' vol=' || p.provolatile::text || ' strict=' || p.proisstrict
         || ' config=' || coalesce(p.proconfig::text, '') || ' acl=' || coalesce(p.proacl::text, '')
         || ' lang=' || l.lanname || ' body=' || md5(p.prosrc) || ' args=' || pg_get_function_arguments(p.oid)
    FROM pg_depend d JOIN pg_proc p ON d.classid = 'pg_proc'::regclass AND p.oid = d.objid
    JOIN pg_language l ON l.oid = p.prolang
   WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
     AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'dbkit')
  UNION ALL
  SELECT 'relation ' || c.oid::regclass::text || ' kind=' || c.relkind::text || ' acl=' || coalesce(c.relacl::text, '')
         || ' persistence=' || c.relpersistence::text || ' options=' || coalesce(c.reloptions::text, '')
    FROM pg_depend d JOIN pg_class c ON d.classid = 'pg_class'::regclass AND c.oid = d.objid
   WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
     AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'dbkit')
  UNION ALL
  SELECT 'column ' || a.attrelid::regclass::text || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
         || ' notnull=' || a.attnotnull || ' default=' || coalesce(pg_get_expr(ad.adbin, ad.adrelid), '')
         || ' acl=' || coalesce(a.attacl::text, '') || ' pos=' || a.attnum
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
   WHERE c.relnamespace = 'dbkit'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT 'index ' || pg_get_indexdef(i.indexrelid)
    FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE c.relnamespace = 'dbkit'::regnamespace
  UNION ALL
  SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
    FROM pg_constraint WHERE connamespace = 'dbkit'::regnamespace
  UNION ALL
  SELECT 'trigger ' || tgrelid::regclass::text || ' ' || tgname || ' ' || pg_get_triggerdef(oid)
    FROM pg_trigger WHERE NOT tgisinternal AND tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'dbkit'::regnamespace)
  UNION ALL
  SELECT 'event trigger ' || evtname || ' on ' || evtevent || ' ' || evtfoid::regproc::text || ' enabled=' || evtenabled::text
         || ' tags=' || coalesce(evttags::text, '')
    FROM pg_event_trigger
  UNION ALL
  SELECT 'schema ' || nspname || ' acl=' || coalesce(nspacl::text, '') FROM pg_namespace WHERE nspname = 'dbkit'
  UNION ALL
  SELECT 'dumped ' || c::regclass::text || ' ' || coalesce(e.extcondition[i], '')
    FROM pg_extension e, unnest(e.extconfig) WITH ORDINALITY AS u(c, i) WHERE e.extname = 'dbkit'
  UNION ALL
  SELECT 'extension ' || extname || ' ' || extversion || ' relocatable=' || extrelocatable
    FROM pg_extension WHERE extname = 'dbkit'
$$;
CREATE TABLE upgraded AS SELECT item FROM describe_dbkit();
SELECT count(*) > 20 AS described FROM upgraded;

DROP EXTENSION dbkit;
DROP SCHEMA drizzle CASCADE;
CREATE EXTENSION dbkit;
CREATE TABLE fresh AS SELECT item FROM describe_dbkit();
-- nothing only in one of them
SELECT 'only upgraded' AS side, item FROM (SELECT item FROM upgraded EXCEPT SELECT item FROM fresh) x
UNION ALL
SELECT 'only fresh', item FROM (SELECT item FROM fresh EXCEPT SELECT item FROM upgraded) y
ORDER BY 1, 2;

-- the 0.1.0 script stays installable: a DBA can still pin it and update later
DROP EXTENSION dbkit;
CREATE EXTENSION dbkit VERSION '0.1.0';
ALTER EXTENSION dbkit UPDATE TO '0.2.0';
SELECT extversion FROM pg_extension WHERE extname = 'dbkit';

-- The scripts' top-level code runs as the installing superuser with search_path at the
-- schema dbkit goes into. A role that may create there plants overloads that match the
-- scripts' calls more closely than pg_catalog's; none of them may run (they made their
-- owner a superuser through CREATE EXTENSION and ALTER EXTENSION ... UPDATE).
DROP EXTENSION dbkit;
CREATE ROLE dbkit_upgrade_planter;
GRANT CREATE ON SCHEMA public TO dbkit_upgrade_planter;
SET ROLE dbkit_upgrade_planter;
CREATE FUNCTION public.escalate() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
    EXECUTE 'ALTER ROLE dbkit_upgrade_planter SUPERUSER';
  END IF;
  RETURN true;
END $$;
CREATE FUNCTION public.quote_ident(name) RETURNS text LANGUAGE sql AS $$ SELECT pg_catalog.quote_ident($1::text) WHERE public.escalate() $$;
CREATE FUNCTION public.jsonb_build_object(text, bigint, text, integer) RETURNS jsonb LANGUAGE sql
  AS $$ SELECT pg_catalog.jsonb_build_object($1, $2, $3, $4) WHERE public.escalate() $$;
CREATE FUNCTION public.eq_oid_regprocedure(oid, regprocedure) RETURNS boolean LANGUAGE sql
  AS $$ SELECT $1 OPERATOR(pg_catalog.=) $2::oid AND public.escalate() $$;
CREATE OPERATOR public.= (LEFTARG = oid, RIGHTARG = regprocedure, FUNCTION = public.eq_oid_regprocedure);
RESET ROLE;
CREATE EXTENSION dbkit VERSION '0.1.0';
ALTER EXTENSION dbkit UPDATE TO '0.2.0';
SELECT rolsuper AS planter_is_superuser FROM pg_roles WHERE rolname = 'dbkit_upgrade_planter';
DROP EXTENSION dbkit;
CREATE EXTENSION dbkit;
SELECT rolsuper AS planter_is_superuser FROM pg_roles WHERE rolname = 'dbkit_upgrade_planter';
DROP OPERATOR public.= (oid, regprocedure);
DROP FUNCTION public.eq_oid_regprocedure(oid, regprocedure), public.jsonb_build_object(text, bigint, text, integer),
  public.quote_ident(name), public.escalate();
REVOKE CREATE ON SCHEMA public FROM dbkit_upgrade_planter;
DROP ROLE dbkit_upgrade_planter;

-- Updated by a superuser other than the extension's owner: what the update creates goes to
-- the owner, as a fresh install by the owner has it (the audit and every deploy failed once
-- the owner was no longer a superuser: permission denied for table dirty_objects).
DROP EXTENSION dbkit;
CREATE ROLE dbkit_upgrade_owner SUPERUSER;
SET ROLE dbkit_upgrade_owner;
CREATE EXTENSION dbkit VERSION '0.1.0';
RESET ROLE;
ALTER EXTENSION dbkit UPDATE TO '0.2.0';
SELECT count(*) AS members_not_owned_by_the_owner
  FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'dbkit'
  LEFT JOIN pg_class c ON d.classid = 'pg_class'::regclass AND c.oid = d.objid
  LEFT JOIN pg_proc p ON d.classid = 'pg_proc'::regclass AND p.oid = d.objid
 WHERE d.deptype = 'e' AND coalesce(c.relowner, p.proowner) <> e.extowner;
CREATE SCHEMA upgrade_owner_s AUTHORIZATION dbkit_upgrade_owner;
ALTER ROLE dbkit_upgrade_owner NOSUPERUSER;
SET ROLE dbkit_upgrade_owner;
CREATE TABLE upgrade_owner_s.t (id int);
RESET ROLE;
SELECT count(*) > 0 AS audited FROM dbkit.ddl_audit WHERE object_identity = 'upgrade_owner_s.t';
DROP SCHEMA upgrade_owner_s CASCADE;
DROP EXTENSION dbkit;
DROP ROLE dbkit_upgrade_owner;
