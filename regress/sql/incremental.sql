-- Incremental references (issue 14 item 1): after every migration the reference
-- is the previous one with only the touched objects re-read. It must always equal
-- the full rebuild, dbkit.snapshot(): same_as_full() says so after each kind of
-- DDL, savepoints rolled back inside a migration, failed runs, and DDL outside.
CREATE DATABASE dbkit_incremental;
\c dbkit_incremental
CREATE EXTENSION dbkit;
\set VERBOSITY terse
-- the deploys of this session leave their objects to the background worker (off by default)
SET dbkit.defer_reference = on;
\i regress/sql/mkfolder.inc
\i regress/sql/settled.inc
\i regress/sql/migrate.inc
-- the whole folder so far, for the non-transactional protocol called by hand
CREATE FUNCTION all_folder() RETURNS jsonb LANGUAGE sql AS $$
  SELECT mkfolder(VARIADIC array_agg(u.v ORDER BY m.tag, u.n)) FROM mig m, unnest(ARRAY[m.tag, m.body]) WITH ORDINALITY u(v, n)
$$;
-- how the newest reference was stored, and whether it equals the full rebuild
-- (naming the keys that differ otherwise), once the worker re-read the deploy's objects
CREATE FUNCTION same_as_full() RETURNS TABLE (stored text, equal text) LANGUAGE sql AS $$
  SELECT pg_temp.settled();
  SELECT CASE WHEN s.snapshot IS NULL THEN 'incremental' ELSE 'full' END,
         CASE WHEN dbkit.reference() = dbkit.snapshot() THEN 'equal' ELSE 'DIFFERS: ' ||
           (SELECT string_agg(k, ', ' ORDER BY k) FROM (SELECT jsonb_object_keys(dbkit.reference())
                UNION SELECT jsonb_object_keys(dbkit.snapshot())) x(k)
             WHERE dbkit.reference() -> k IS DISTINCT FROM dbkit.snapshot() -> k) END
    FROM (SELECT snapshot FROM dbkit.snapshots ORDER BY id DESC LIMIT 1) s
$$;
-- with drift carried: how it was stored, and the keys where the reference differs from
-- the full rebuild (exactly the drift's, when right)
CREATE FUNCTION carried_as_full() RETURNS TABLE (stored text, differs text) LANGUAGE sql AS $$
  SELECT pg_temp.settled();
  SELECT CASE WHEN s.snapshot IS NULL THEN 'incremental' ELSE 'full' END,
         (SELECT string_agg(k, ', ' ORDER BY k) FROM (SELECT jsonb_object_keys(dbkit.reference())
              UNION SELECT jsonb_object_keys(dbkit.snapshot())) x(k)
           WHERE dbkit.reference() -> k IS DISTINCT FROM dbkit.snapshot() -> k)
    FROM (SELECT snapshot FROM dbkit.snapshots ORDER BY id DESC LIMIT 1) s
$$;
CREATE ROLE dbkit_inc_owner;

SELECT * FROM migrate('0000_base', $m$
CREATE SCHEMA app;
CREATE TYPE app.mood AS ENUM ('sad', 'ok');
CREATE DOMAIN app.pos AS int CHECK (VALUE > 0);
CREATE SEQUENCE app.counter;
CREATE TABLE app.users (id serial PRIMARY KEY, email text NOT NULL UNIQUE, mood app.mood, score app.pos DEFAULT 1,
                        n bigint DEFAULT nextval('app.counter'));
CREATE TABLE app.posts (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, user_id int REFERENCES app.users (id),
                        body text CHECK (length(body) > 0));
CREATE INDEX posts_user ON app.posts (user_id);
CREATE VIEW app.user_posts AS SELECT u.email, p.body FROM app.users u JOIN app.posts p ON p.user_id = u.id;
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
CREATE TRIGGER users_touch BEFORE UPDATE ON app.users FOR EACH ROW EXECUTE FUNCTION app.touch();
CREATE TABLE app.events (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE app.events_2024 PARTITION OF app.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE app.events_2025 (id int, at date);
$m$);
SELECT * FROM same_as_full();
-- a migration without DDL: nothing to re-read, no new reference row (the base one stays, stored in full)
SELECT * FROM migrate('0001_data', 'SELECT 1');
SELECT * FROM same_as_full();
-- columns, defaults, constraints, indexes
SELECT * FROM migrate('0002_columns', $m$
ALTER TABLE app.users ADD COLUMN name text DEFAULT 'anon';
ALTER TABLE app.users ALTER COLUMN score DROP DEFAULT;
ALTER TABLE app.posts DROP CONSTRAINT posts_body_check;
ALTER TABLE app.posts ADD CONSTRAINT posts_body_len CHECK (length(body) < 1000);
DROP INDEX app.posts_user;
CREATE UNIQUE INDEX posts_user_body ON app.posts (user_id, body);
ALTER TABLE app.users DROP COLUMN n;
$m$);
SELECT * FROM same_as_full();
-- renames: a table (its view, foreign keys, indexes), a column, a type, a sequence, a schema
SELECT * FROM migrate('0003_renames', $m$
ALTER TABLE app.users RENAME TO people;
ALTER TABLE app.people RENAME COLUMN email TO mail;
ALTER TYPE app.mood RENAME TO feeling;
ALTER SEQUENCE app.counter RENAME TO tally;
ALTER INDEX app.posts_user_body RENAME TO posts_ub;
$m$);
SELECT * FROM same_as_full();
SELECT * FROM migrate('0004_schema_rename', 'ALTER SCHEMA app RENAME TO core');
SELECT * FROM same_as_full();
-- partitions attached and detached, triggers, functions, enum values, views replaced
SELECT * FROM migrate('0005_partitions', $m$
ALTER TABLE core.events ATTACH PARTITION core.events_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
ALTER TABLE core.events DETACH PARTITION core.events_2024;
DROP TRIGGER users_touch ON core.people;
CREATE OR REPLACE FUNCTION core.touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN OLD; END';
ALTER TYPE core.feeling ADD VALUE 'glad';
CREATE OR REPLACE VIEW core.user_posts AS SELECT u.mail AS email, p.body, p.id FROM core.people u JOIN core.posts p ON p.user_id = u.id;
ALTER FUNCTION core.touch() RENAME TO touched;
$m$);
SELECT * FROM same_as_full();
-- owners, row security, policies, rules, replica identity, drops with CASCADE
SELECT * FROM migrate('0006_security', $m$
ALTER TABLE core.posts OWNER TO dbkit_inc_owner;
ALTER TABLE core.posts ENABLE ROW LEVEL SECURITY;
CREATE POLICY own ON core.posts USING (user_id > 0);
CREATE RULE no_del AS ON DELETE TO core.people DO INSTEAD NOTHING;
ALTER TABLE core.people REPLICA IDENTITY USING INDEX users_email_key;
ALTER INDEX core.users_email_key RENAME TO people_mail_uq;
DROP DOMAIN core.pos CASCADE;
$m$);
SELECT * FROM same_as_full();
-- a savepoint rolled back inside a migration: its DDL never happened
SELECT * FROM migrate('0007_savepoint', $m$
CREATE TABLE core.kept (id int);
DO $$ BEGIN
  BEGIN
    CREATE TABLE core.gone (id int);
    ALTER TABLE core.people ADD COLUMN gone int;
    RAISE EXCEPTION 'roll back to the savepoint';
  EXCEPTION WHEN raise_exception THEN NULL;
  END;
END $$;
$m$);
SELECT * FROM same_as_full();
-- a failed run: nothing of it stays, the reference neither
SELECT * FROM migrate('0008_fails', 'CREATE TABLE core.half (id int); SELECT 1/0;');
SELECT * FROM same_as_full();
-- GRANT and REVOKE report no object to event triggers, but the command they collect
-- holds the objects (ON ALL ... IN SCHEMA expanded): those alone are re-read, equal
SELECT * FROM migrate('0009_grant', 'GRANT SELECT ON core.people TO PUBLIC');
SELECT * FROM same_as_full();
-- drift: DDL outside dbkit, then a migration; the drift is carried, not absorbed
SELECT count(*) AS dirty_before FROM dbkit.dirty_objects;
ALTER TABLE core.kept ADD COLUMN by_hand int;
SELECT count(*) > 0 AS dirty_after FROM dbkit.dirty_objects;
SELECT kind, object, change FROM dbkit_drift();
SELECT * FROM migrate('0010_after_drift', 'CREATE TABLE core.later (id int)');
SELECT kind, object, change FROM dbkit_drift();
-- the run touched no drifted object: its reference is still incremental, the drift's
-- rows stay, and it differs from the full rebuild in the hand-made column alone
SELECT * FROM carried_as_full();
SELECT count(*) > 0 AS dirty_kept FROM dbkit.dirty_objects;
SELECT carries_drift FROM dbkit.snapshots ORDER BY id DESC LIMIT 1;
SELECT kind, object, change, jsonb_array_length(audit) AS audit_entries FROM dbkit_drift();
SELECT count(*) AS dirty FROM dbkit.dirty_objects;
SELECT count(*) FROM dbkit_accept_drift('take the hand change');
SELECT * FROM same_as_full();
-- DDL outside dbkit in an aborted transaction, or rolled back to a savepoint: no flag
BEGIN; CREATE TABLE core.never (id int); ROLLBACK;
BEGIN; SAVEPOINT s; CREATE TABLE core.never (id int); ROLLBACK TO SAVEPOINT s; COMMIT;
SELECT count(*) AS dirty FROM dbkit.dirty_objects;
SELECT count(*) AS drift FROM dbkit_drift();
SELECT * FROM migrate('0011_after_rollbacks', 'CREATE INDEX later_id ON core.later (id)');
SELECT * FROM same_as_full();
-- drops
SELECT * FROM migrate('0012_drops', $m$
DROP VIEW core.user_posts;
DROP TABLE core.posts;
DROP SEQUENCE core.tally;
DROP FUNCTION core.touched();
DROP SCHEMA core CASCADE;
$m$);
SELECT * FROM same_as_full();
SELECT count(*) FILTER (WHERE snapshot IS NULL) > 0 AS some_incremental FROM dbkit.snapshots;
-- a non-transactional migration: its statements commit one by one (by_dbkit dirty
-- rows); its finish leaves their objects to the worker when no other DDL came in between
SELECT * FROM migrate('0013_nt_table', 'CREATE TABLE nt_t (id int, v int); CREATE INDEX nt_t_id ON nt_t (id)');
INSERT INTO mig VALUES ('0014_nontx', E'CREATE INDEX CONCURRENTLY nt_t_v ON nt_t (v);\n--> statement-breakpoint\nDROP INDEX CONCURRENTLY nt_t_id;');
SELECT action, tag FROM dbkit_apply(all_folder()) WHERE action <> 'already_applied';
SELECT s FROM dbkit_nontx_start(all_folder(), '0014_nontx') st,
  LATERAL (VALUES (1, st.sql), (2, format('SELECT dbkit_nontx_step(%L, %s, true) IS NOT NULL AS stepped', '0014_nontx', st.statement))) v(k, s)
  ORDER BY st.statement, v.k \gexec
SELECT bool_and(by_dbkit) AS all_by_dbkit, count(*) > 0 AS some FROM dbkit.dirty_objects;
SELECT tag, action FROM dbkit_nontx_finish(all_folder(), '0014_nontx');
-- left to the worker: every row is marked deferred (same_as_full waits for it)
SELECT count(*) FILTER (WHERE NOT deferred) AS not_deferred FROM dbkit.dirty_objects;
SELECT * FROM same_as_full();
-- the same with DDL by someone else while it ran: the full read
INSERT INTO mig VALUES ('0015_nontx', 'CREATE INDEX CONCURRENTLY nt_t_v2 ON nt_t (v);');
SELECT s FROM dbkit_nontx_start(all_folder(), '0015_nontx') st,
  LATERAL (VALUES (1, st.sql), (2, format('SELECT dbkit_nontx_step(%L, %s, true) IS NOT NULL AS stepped', '0015_nontx', st.statement))) v(k, s)
  ORDER BY st.statement, v.k \gexec
ALTER TABLE nt_t ADD COLUMN by_someone int;
SELECT tag, action FROM dbkit_nontx_finish(all_folder(), '0015_nontx');
SELECT * FROM same_as_full();
-- an identity's sequence options: changed through its column, and through ALTER
-- SEQUENCE on its sequence (the event names the sequence: its column's table is re-read)
SELECT * FROM migrate('0016_identity', 'CREATE TABLE ids (id int GENERATED ALWAYS AS IDENTITY, other int GENERATED BY DEFAULT AS IDENTITY (START WITH 10))');
SELECT * FROM same_as_full();
SELECT * FROM migrate('0017_identity_seq', 'ALTER SEQUENCE ids_id_seq INCREMENT BY 7 MAXVALUE 5000');
SELECT * FROM same_as_full();
SELECT dbkit.reference() -> 'column:public.ids.id' -> 'identity_options' AS id_options;
SELECT * FROM migrate('0018_identity_col', 'ALTER TABLE ids ALTER COLUMN other SET CACHE 3 SET CYCLE');
SELECT * FROM same_as_full();
SELECT dbkit.reference() -> 'column:public.ids.other' -> 'identity_options' AS other_options;
-- drift carried by several runs: each stays incremental while it touches no drifted
-- object; the drift is still explained by the audit entry of who made it
ALTER TABLE ids ADD COLUMN by_hand int;
SELECT * FROM migrate('0019_beside_drift', 'CREATE TABLE beside (id int)');
SELECT * FROM migrate('0020_beside_drift', 'ALTER TABLE beside ADD COLUMN note text');
SELECT * FROM carried_as_full();
SELECT kind, object, change, jsonb_array_length(audit) AS audit_entries FROM dbkit_drift();
-- a run that touches the drifted table: the full read, carrying the drift key by key
SELECT * FROM migrate('0021_drifted_table', 'ALTER TABLE ids ADD COLUMN by_migration int');
SELECT * FROM carried_as_full();
SELECT kind, object, change FROM dbkit_drift();
SELECT count(*) FROM dbkit_accept_drift('take the hand change');
SELECT * FROM same_as_full();
-- GRANT and REVOKE of each kind, alone in their migrations
SELECT * FROM migrate('0022_grant_objects', $m$
CREATE SCHEMA app2;
CREATE TABLE app2.people (id int PRIMARY KEY, name text);
CREATE TYPE app2.level AS ENUM ('low', 'high');
CREATE DOMAIN app2.positive AS int CHECK (VALUE > 0);
CREATE SEQUENCE app2.tickets;
CREATE FUNCTION app2.double(int) RETURNS int LANGUAGE sql AS 'SELECT $1 * 2';
CREATE PROCEDURE app2.noop() LANGUAGE sql AS 'SELECT 1';
CREATE VIEW app2.people_view AS SELECT * FROM app2.people;
$m$);
SELECT * FROM same_as_full();
SELECT * FROM migrate('0023_grant_kinds', $m$
GRANT SELECT (id), UPDATE (id) ON app2.people TO dbkit_inc_owner;
GRANT USAGE ON SEQUENCE app2.tickets TO dbkit_inc_owner;
REVOKE EXECUTE ON FUNCTION app2.double(int) FROM PUBLIC;
GRANT EXECUTE ON PROCEDURE app2.noop() TO dbkit_inc_owner;
GRANT USAGE ON TYPE app2.level TO dbkit_inc_owner;
REVOKE USAGE ON DOMAIN app2.positive FROM PUBLIC;
GRANT USAGE ON SCHEMA app2 TO dbkit_inc_owner;
GRANT SELECT ON app2.people_view TO dbkit_inc_owner WITH GRANT OPTION;
$m$);
SELECT * FROM same_as_full();
SELECT * FROM migrate('0024_grant_all', $m$
GRANT SELECT ON ALL TABLES IN SCHEMA app2 TO dbkit_inc_owner;
GRANT EXECUTE ON ALL ROUTINES IN SCHEMA app2 TO dbkit_inc_owner;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA app2 FROM dbkit_inc_owner;
REVOKE SELECT (id) ON app2.people FROM dbkit_inc_owner;
$m$);
SELECT * FROM same_as_full();
-- a kind whose privileges no entry holds (a language): left to the full read
SELECT * FROM migrate('0025_grant_language', 'GRANT USAGE ON LANGUAGE plpgsql TO dbkit_inc_owner');
SELECT * FROM same_as_full();
\c regression
DROP DATABASE dbkit_incremental;
DROP ROLE dbkit_inc_owner;
