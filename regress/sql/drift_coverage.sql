-- Drift sees what snapshot format 2 added (issue 16 item 6): rules, owners,
-- privileges (table, column, function, schema), view options, replica identity,
-- aggregates, operators, casts, publications, event triggers, default
-- privileges, and the `drizzle` schema (only the configured migrations table is
-- left out). Each block makes one change by hand, shows its drift row, and is
-- rolled back. Then: a reference a 0.1.0 dbkit took, before and after the upgrade.
CREATE DATABASE dbkit_drift_cov;
\c dbkit_drift_cov
CREATE EXTENSION dbkit;
\set VERBOSITY default
\i regress/sql/mkfolder.inc
SET client_min_messages = warning;  -- CREATE PUBLICATION's wal_level warning

CREATE FUNCTION show_drift() RETURNS TABLE (kind text, object text, change text, detail text)
LANGUAGE sql AS $$ SELECT d.kind, d.object, d.change, d.detail FROM dbkit_drift() d ORDER BY d.kind, d.object $$;

CREATE ROLE dbkit_cov_owner;
CREATE ROLE dbkit_cov_reader;
-- the base schema, through a migration; dbkit creates drizzle's table (a custom
-- name, in schema drizzle) with a serial id, so a sequence and an index too
SELECT tag, action FROM dbkit_apply(mkfolder('0000_base', $m$
CREATE TABLE public.accounts (id integer PRIMARY KEY, email text NOT NULL, balance integer);
--> statement-breakpoint
CREATE VIEW public.rich AS SELECT id, email FROM public.accounts WHERE balance > 100;
--> statement-breakpoint
CREATE FUNCTION public.add1(integer) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT $1 + 1'
$m$), '{"drizzle_schema": "drizzle", "drizzle_table": "app_migrations"}');
SELECT * FROM show_drift();
-- the snapshot says which drizzle table it left out, and holds none of its parts
SELECT s.snapshot -> 'dbkit:format' AS format,
       (SELECT count(*) FROM jsonb_object_keys(s.snapshot) k WHERE k LIKE '%app_migrations%') AS drizzle_table_keys,
       s.snapshot ? 'schema:drizzle' AS has_drizzle_schema
  FROM dbkit.snapshots s ORDER BY id DESC LIMIT 1;
-- drizzle's rows change on every deploy: not drift
INSERT INTO drizzle.app_migrations (hash, created_at) VALUES ('x', 1);
SELECT * FROM show_drift();
DELETE FROM drizzle.app_migrations WHERE hash = 'x';

-- rule: DO INSTEAD NOTHING swallows every insert
BEGIN;
CREATE RULE swallow AS ON INSERT TO public.accounts DO INSTEAD NOTHING;
SELECT * FROM show_drift();
ROLLBACK;

-- owner
BEGIN;
ALTER TABLE public.accounts OWNER TO dbkit_cov_owner;
SELECT * FROM show_drift();
ROLLBACK;

-- table privileges
BEGIN;
GRANT ALL ON public.accounts TO PUBLIC;
SELECT * FROM show_drift();
ROLLBACK;

-- column privileges
BEGIN;
GRANT UPDATE (balance) ON public.accounts TO dbkit_cov_reader;
SELECT * FROM show_drift();
ROLLBACK;

-- function privileges and owner
BEGIN;
REVOKE EXECUTE ON FUNCTION public.add1(integer) FROM PUBLIC;
ALTER FUNCTION public.add1(integer) OWNER TO dbkit_cov_owner;
SELECT * FROM show_drift();
ROLLBACK;

-- schema privileges
BEGIN;
GRANT CREATE ON SCHEMA public TO dbkit_cov_reader;
SELECT * FROM show_drift();
ROLLBACK;

-- a comment on a view's column (a view has no column entries: the view's column_comments)
BEGIN;
COMMENT ON COLUMN public.rich.email IS 'where we write';
SELECT * FROM show_drift();
ROLLBACK;

-- view options: security_invoker, then check_option
BEGIN;
ALTER VIEW public.rich SET (security_invoker = true);
SELECT * FROM show_drift();
ROLLBACK;
BEGIN;
ALTER VIEW public.rich SET (check_option = cascaded);
SELECT * FROM show_drift();
ROLLBACK;

-- replica identity
BEGIN;
ALTER TABLE public.accounts REPLICA IDENTITY FULL;
SELECT * FROM show_drift();
ROLLBACK;

-- aggregate
BEGIN;
CREATE AGGREGATE public.total(integer) (sfunc = int4pl, stype = integer, initcond = '0');
SELECT * FROM show_drift();
ROLLBACK;

-- operator
BEGIN;
CREATE FUNCTION public.always(integer, integer) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT true';
CREATE OPERATOR public.=== (leftarg = integer, rightarg = integer, function = public.always);
SELECT * FROM show_drift() WHERE kind = 'operator';
ROLLBACK;

-- cast
BEGIN;
CREATE CAST (text AS integer) WITH INOUT AS IMPLICIT;
SELECT * FROM show_drift();
ROLLBACK;

-- publication
BEGIN;
CREATE PUBLICATION leak FOR TABLE public.accounts (id, email) WHERE (balance > 0);
SELECT * FROM show_drift();
ROLLBACK;

-- event trigger: dbkit's own audit disabled
BEGIN;
ALTER EVENT TRIGGER dbkit_audit_ddl DISABLE;
SELECT * FROM show_drift();
ROLLBACK;

-- default privileges
BEGIN;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO PUBLIC;
SELECT * FROM show_drift();
ROLLBACK;

-- anything in a schema named drizzle other than the configured table
BEGIN;
CREATE TABLE drizzle.__drizzle_migrations (id integer);
CREATE FUNCTION drizzle.backdoor() RETURNS integer LANGUAGE sql AS 'SELECT 1';
SELECT * FROM show_drift();
ROLLBACK;

-- a change made through a migration is not drift
SELECT tag, action FROM dbkit_apply(mkfolder('0000_base', $m$
CREATE TABLE public.accounts (id integer PRIMARY KEY, email text NOT NULL, balance integer);
--> statement-breakpoint
CREATE VIEW public.rich AS SELECT id, email FROM public.accounts WHERE balance > 100;
--> statement-breakpoint
CREATE FUNCTION public.add1(integer) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT $1 + 1'
$m$, '0001_grants', $m$
GRANT SELECT ON public.accounts TO dbkit_cov_reader;
--> statement-breakpoint
ALTER TABLE public.accounts REPLICA IDENTITY FULL
$m$), '{"drizzle_schema": "drizzle", "drizzle_table": "app_migrations"}') WHERE action <> 'already_applied';
SELECT * FROM show_drift();

-- the per-object read a deploy and a poll use (dbkit._snapshot_entries_of, made from
-- snapshot_entries' text without its "whole schema" branches, planned generically)
-- gives the full read's entries, for all objects at once and for each one alone (the
-- second round runs on the plans kept from the first), with every kind of entry present
BEGIN;
CREATE RULE swallow AS ON INSERT TO public.accounts DO INSTEAD NOTHING;
GRANT UPDATE (balance) ON public.accounts TO dbkit_cov_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO PUBLIC;
CREATE AGGREGATE public.total(integer) (sfunc = int4pl, stype = integer, initcond = '0');
CREATE FUNCTION public.always(integer, integer) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT true';
CREATE OPERATOR public.=== (leftarg = integer, rightarg = integer, function = public.always);
CREATE CAST (text AS integer) WITH INOUT AS IMPLICIT;
CREATE PUBLICATION leak FOR TABLE public.accounts (id, email) WHERE (balance > 0);
CREATE FUNCTION public.no_ddl() RETURNS event_trigger LANGUAGE plpgsql AS 'BEGIN END';
CREATE EVENT TRIGGER no_ddl ON ddl_command_end EXECUTE FUNCTION public.no_ddl();
CREATE SCHEMA app;
CREATE TYPE app.mood AS ENUM ('sad', 'ok');
CREATE DOMAIN app.pos AS integer CHECK (VALUE > 0);
CREATE SEQUENCE app.counter START 5;
CREATE TABLE app.events (id bigint GENERATED ALWAYS AS IDENTITY, at date NOT NULL, mood app.mood, n app.pos,
                         account integer REFERENCES public.accounts (id) ON DELETE CASCADE,
                         PRIMARY KEY (id, at), CHECK (n < 1000)) PARTITION BY RANGE (at);
CREATE TABLE app.events_2026 PARTITION OF app.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX events_mood ON app.events (mood DESC NULLS LAST) WHERE mood IS NOT NULL;
CREATE MATERIALIZED VIEW app.moods AS SELECT mood, count(*) FROM app.events GROUP BY mood;
CREATE FUNCTION app.stamp() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
CREATE TRIGGER stamp BEFORE INSERT ON public.accounts FOR EACH ROW EXECUTE FUNCTION app.stamp();
ALTER TABLE public.accounts ENABLE ROW LEVEL SECURITY;
CREATE POLICY own ON public.accounts USING (email = current_user);
COMMENT ON COLUMN public.accounts.email IS 'where we write';
COMMENT ON TABLE app.events IS 'what happened';
COMMENT ON COLUMN app.moods.mood IS 'how it went';
WITH full_read AS (SELECT key, value, objid, relid FROM dbkit.snapshot_entries('drizzle', 'app_migrations', NULL)
                    WHERE key NOT LIKE 'dbkit:%'),
     objs AS (SELECT array_agg(DISTINCT objid) AS a FROM full_read),
     per_object AS (SELECT e.* FROM objs, dbkit._snapshot_entries_of('drizzle', 'app_migrations', objs.a) e)
SELECT (SELECT string_agg(DISTINCT split_part(key, ':', 1), ' ') FROM full_read) AS kinds,
       (SELECT count(*) FROM (SELECT * FROM full_read EXCEPT SELECT * FROM per_object) x) AS missing,
       (SELECT count(*) FROM (SELECT * FROM per_object EXCEPT SELECT * FROM full_read) x) AS extra;
SELECT round, count(*) AS objects, count(*) FILTER (WHERE NOT same) AS differ
  FROM generate_series(1, 2) round,
       LATERAL (SELECT DISTINCT objid FROM dbkit.snapshot_entries('drizzle', 'app_migrations', NULL)
                 WHERE objid IS NOT NULL) o,
       LATERAL (SELECT (SELECT jsonb_agg(to_jsonb(e) ORDER BY e.key)
                          FROM dbkit.snapshot_entries('drizzle', 'app_migrations', ARRAY[o.objid]) e)
                       IS NOT DISTINCT FROM
                       (SELECT jsonb_agg(to_jsonb(e) ORDER BY e.key)
                          FROM dbkit._snapshot_entries_of('drizzle', 'app_migrations', ARRAY[o.objid]) e) AS same) c
 GROUP BY round ORDER BY round;
ROLLBACK;

\c postgres
DROP DATABASE dbkit_drift_cov;

------------------------------------------------------------------------------
-- A reference taken by dbkit 0.1.0
------------------------------------------------------------------------------
-- clean at the upgrade: re-baselined at once, with an event; new kinds watched
CREATE DATABASE dbkit_drift_up1;
\c dbkit_drift_up1
SET client_min_messages = warning;
CREATE EXTENSION dbkit VERSION '0.1.0';
CREATE TABLE public.t (id integer PRIMARY KEY);
CREATE SCHEMA drizzle;
CREATE TABLE drizzle.__drizzle_migrations (id serial PRIMARY KEY, hash text);
-- (what 0.1.0's dbkit_accept_drift stored; the 0.2.0 library refuses 0.1.0's SQL objects)
WITH e AS (INSERT INTO dbkit.events (action, reason) VALUES ('accept-drift', '0.1.0 reference') RETURNING id)
INSERT INTO dbkit.snapshots (run_id, tag, fingerprint, catalog_fingerprint, snapshot)
SELECT e.id, NULL, md5(s::text), dbkit.catalog_fingerprint(), s FROM e, dbkit.snapshot() s
RETURNING (SELECT count(*) FROM jsonb_object_keys(snapshot)) AS objects;
ALTER EXTENSION dbkit UPDATE TO '0.2.0';
SELECT action, detail ->> 'format' AS format FROM dbkit.events ORDER BY id;
SELECT count(*) AS snapshots, bool_and(snapshot ? 'dbkit:format') FILTER (WHERE id = (SELECT max(id) FROM dbkit.snapshots)) AS newest_is_v2
  FROM dbkit.snapshots;
SELECT kind, object, change, detail FROM dbkit_drift();
GRANT ALL ON public.t TO PUBLIC;
SELECT kind, object, change, detail FROM dbkit_drift();
\c postgres
DROP DATABASE dbkit_drift_up1;

-- drift pending at the upgrade: the 0.1.0 reference stays, and is compared in
-- 0.1.0's terms: the table added by hand shows, no owner or privilege does
CREATE DATABASE dbkit_drift_up2;
\c dbkit_drift_up2
SET client_min_messages = warning;
CREATE EXTENSION dbkit VERSION '0.1.0';
CREATE TABLE public.t (id integer PRIMARY KEY);
CREATE FUNCTION public.f() RETURNS integer LANGUAGE sql AS 'SELECT 1';
-- (what 0.1.0's dbkit_accept_drift stored; the 0.2.0 library refuses 0.1.0's SQL objects)
WITH e AS (INSERT INTO dbkit.events (action, reason) VALUES ('accept-drift', '0.1.0 reference') RETURNING id)
INSERT INTO dbkit.snapshots (run_id, tag, fingerprint, catalog_fingerprint, snapshot)
SELECT e.id, NULL, md5(s::text), dbkit.catalog_fingerprint(), s FROM e, dbkit.snapshot() s
RETURNING (SELECT count(*) FROM jsonb_object_keys(snapshot)) AS objects;
CREATE TABLE public.by_hand (id integer);
ALTER EXTENSION dbkit UPDATE TO '0.2.0';
SELECT action FROM dbkit.events ORDER BY id;
SELECT kind, object, change, detail FROM dbkit_drift();
-- accepting stores a format-2 reference
SELECT objects > 0 AS accepted FROM dbkit_accept_drift('reviewed after the upgrade');
SELECT snapshot -> 'dbkit:format' ->> 'version' AS format FROM dbkit.snapshots ORDER BY id DESC LIMIT 1;
SELECT kind, object, change, detail FROM dbkit_drift();
\c postgres
DROP DATABASE dbkit_drift_up2;
DROP ROLE dbkit_cov_owner;
DROP ROLE dbkit_cov_reader;
