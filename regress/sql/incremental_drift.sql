-- Incremental drift (issue 14 item 1): DDL outside dbkit leaves the objects it
-- named in dbkit.dirty_objects; dbkit_drift() and dbkit_snapshot(full => false)
-- then re-read only those objects (and what their change can alter). The
-- incremental live schema must always equal the full read, after every kind of
-- DDL, savepoints rolled back and aborted transactions included, and the dirty
-- set must stay small (the path was really taken).
CREATE DATABASE dbkit_incdrift;
\c dbkit_incdrift
CREATE EXTENSION dbkit;
\set VERBOSITY terse
\i regress/sql/mkfolder.inc
\i regress/sql/settled.inc
-- the incremental live schema against the full read (naming the keys that differ),
-- and how many objects the incremental read re-read (NULL: it fell back to the full read)
CREATE FUNCTION same_live() RETURNS TABLE (reread int, equal text) LANGUAGE sql AS $$
  SELECT cardinality(dbkit._dirty_set()),
         CASE WHEN dbkit_snapshot(full => false) = dbkit_snapshot(full => true) THEN 'equal' ELSE 'DIFFERS: ' ||
           (SELECT string_agg(k, ', ' ORDER BY k) FROM (SELECT jsonb_object_keys(dbkit_snapshot(full => false))
                UNION SELECT jsonb_object_keys(dbkit_snapshot(full => true))) x(k)
             WHERE dbkit_snapshot(full => false) -> k IS DISTINCT FROM dbkit_snapshot(full => true) -> k) END
$$;
\i regress/sql/migrate.inc
CREATE ROLE dbkit_incdrift_owner;
SELECT * FROM migrate('0000_base', $m$
CREATE SCHEMA app;
CREATE TYPE app.mood AS ENUM ('sad', 'ok');
CREATE TABLE app.users (id serial PRIMARY KEY, email text NOT NULL UNIQUE, mood app.mood);
CREATE TABLE app.posts (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, user_id int REFERENCES app.users (id),
                        body text CHECK (length(body) > 0));
CREATE INDEX posts_user ON app.posts (user_id);
CREATE VIEW app.user_posts AS SELECT u.email, p.body FROM app.users u JOIN app.posts p ON p.user_id = u.id;
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
CREATE TRIGGER users_touch BEFORE UPDATE ON app.users FOR EACH ROW EXECUTE FUNCTION app.touch();
CREATE TABLE app.events (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE app.events_2024 PARTITION OF app.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE other (id int PRIMARY KEY);
$m$);
CALL pg_temp.wait_settled();
-- nothing changed: nothing to re-read, and no drift
SELECT * FROM same_live();
SELECT count(*) AS drift FROM dbkit_drift();
-- every change accumulates in the dirty set; after each one the incremental read
-- equals the full one, and dbkit_drift() names exactly what changed
ALTER TABLE app.users ADD COLUMN name text DEFAULT 'anon';
SELECT * FROM same_live();
SELECT kind, object, change FROM dbkit_drift();
CREATE INDEX users_name ON app.users (name);
DROP INDEX app.posts_user;
SELECT * FROM same_live();
SELECT kind, object, change FROM dbkit_drift();
-- a rename: the view, the foreign key and the indexes render the new name
ALTER TABLE app.users RENAME TO people;
SELECT * FROM same_live();
SELECT kind, object, change FROM dbkit_drift();
ALTER TABLE app.people RENAME COLUMN email TO mail;
ALTER TYPE app.mood ADD VALUE 'glad';
CREATE OR REPLACE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN OLD; END';
SELECT * FROM same_live();
SELECT kind, object, change FROM dbkit_drift();
-- owners, row security, policies, partitions detached
ALTER TABLE app.posts OWNER TO dbkit_incdrift_owner;
ALTER TABLE app.posts ENABLE ROW LEVEL SECURITY;
CREATE POLICY own ON app.posts USING (user_id > 0);
ALTER TABLE app.events DETACH PARTITION app.events_2024;
SELECT * FROM same_live();
SELECT count(*) AS drift FROM dbkit_drift();
-- a savepoint rolled back and an aborted transaction leave nothing
BEGIN; SAVEPOINT s; CREATE TABLE app.never (id int); ALTER TABLE other ADD COLUMN never int;
ROLLBACK TO SAVEPOINT s; ALTER TABLE other ADD COLUMN kept int; COMMIT;
BEGIN; CREATE TABLE app.never2 (id int); DROP VIEW app.user_posts; ROLLBACK;
SELECT * FROM same_live();
SELECT kind, object, change FROM dbkit_drift() WHERE object LIKE '%other%' OR object LIKE '%never%' OR kind = 'view';
-- a schema renamed: every key in it changes
ALTER SCHEMA app RENAME TO core;
SELECT * FROM same_live();
SELECT count(*) AS drift FROM dbkit_drift();
-- drops, CASCADE included
DROP TABLE core.people CASCADE;
SELECT * FROM same_live();
SELECT kind, object, change FROM dbkit_drift() WHERE change = 'removed' ORDER BY 2;
-- GRANT and REVOKE: their objects, from the command the event trigger collected
GRANT SELECT ON other TO PUBLIC;
SELECT * FROM same_live();
SELECT count(*) FROM dbkit_accept_drift('before the grants');
GRANT SELECT (id) ON other TO dbkit_incdrift_owner;
SELECT * FROM same_live();
SELECT kind, object, change FROM dbkit_drift();
REVOKE EXECUTE ON FUNCTION core.touch() FROM PUBLIC;
GRANT USAGE ON TYPE core.mood TO dbkit_incdrift_owner;
GRANT USAGE ON SCHEMA core TO dbkit_incdrift_owner;
SELECT * FROM same_live();
-- each drift row carries the GRANT or REVOKE that explains it (the audit names the objects too)
SELECT kind, object, change, (SELECT string_agg((a ->> 'command') || ' ' || (a ->> 'object'), ', ')
                                FROM jsonb_array_elements(audit) a) AS audit FROM dbkit_drift();
GRANT SELECT ON ALL TABLES IN SCHEMA core TO dbkit_incdrift_owner;
SELECT * FROM same_live();
SELECT kind, object, change FROM dbkit_drift() WHERE kind = 'table';
-- rolled back with its savepoint: nothing stays
BEGIN; SAVEPOINT s; GRANT INSERT ON other TO dbkit_incdrift_owner; ROLLBACK TO SAVEPOINT s; COMMIT;
SELECT count(*) FROM dbkit_accept_drift('after the grants');
-- a temporary table's GRANT: not drift, nothing to re-read, nothing audited
CREATE TEMP TABLE tmp_granted (id int);
GRANT SELECT ON tmp_granted TO PUBLIC;
SELECT * FROM same_live();
SELECT count(*) AS temp_audited FROM dbkit.ddl_audit WHERE object_identity LIKE 'pg_temp%';
-- ALTER DEFAULT PRIVILEGES names no object (any role may run it for itself): the
-- pg_default_acl rows and the reference's entries of them are re-read, not the schema
SELECT count(*) FROM dbkit_accept_drift('before default privileges');
ALTER DEFAULT PRIVILEGES IN SCHEMA core GRANT SELECT ON TABLES TO PUBLIC;
SELECT * FROM same_live();
SELECT kind, object, change FROM dbkit_drift();
SET ROLE dbkit_incdrift_owner;
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
RESET ROLE;
SELECT * FROM same_live();
SELECT count(*) FROM dbkit_accept_drift('with default privileges');
-- granted back to the defaults: the row is gone, and its entry with it
ALTER DEFAULT PRIVILEGES IN SCHEMA core REVOKE SELECT ON TABLES FROM PUBLIC;
SELECT * FROM same_live();
SELECT kind, object, change FROM dbkit_drift();
SELECT count(*) FROM dbkit_accept_drift('after default privileges');
-- a database's privileges fire no event trigger (a global object) and are in no entry
GRANT CONNECT ON DATABASE dbkit_incdrift TO dbkit_incdrift_owner;
SELECT * FROM same_live();
-- a kind whose privileges no entry holds (a language) fires one: the full read, equal
GRANT USAGE ON LANGUAGE plpgsql TO dbkit_incdrift_owner;
SELECT * FROM same_live();
SELECT count(*) AS drift FROM dbkit_drift();
-- a deploy carries the drift found on the dirty set and takes in its own change;
-- the reference stays incremental and the dirty set still holds the drift (reread 4)
SELECT count(*) FROM dbkit_accept_drift('take the hand changes');
SELECT * FROM same_live();
ALTER TABLE other ADD COLUMN by_hand int;
SELECT * FROM migrate('0001_next', 'CREATE TABLE next_t (id int)');
CALL pg_temp.wait_settled();
SELECT kind, object, change FROM dbkit_drift();
SELECT * FROM same_live();
-- a failed CREATE INDEX CONCURRENTLY fires no ddl_command_end: the poll still finds
-- the invalid index it left (newer than the reference), without reading the schema
SELECT count(*) FROM dbkit_accept_drift('before the failed build');
SELECT * FROM migrate('0002_dups', 'CREATE TABLE dups (v int); INSERT INTO dups VALUES (1), (1)');
CALL pg_temp.wait_settled();
CREATE UNIQUE INDEX CONCURRENTLY dups_v ON dups (v);
SELECT cardinality(dbkit._dirty_set()) AS reread;
SELECT kind, object, change FROM dbkit_drift();
-- an index invalid when the reference was stored stays reported
SELECT count(*) FROM dbkit_accept_drift('with the invalid index');
SELECT cardinality(dbkit._dirty_set()) AS reread;
SELECT kind, object, change FROM dbkit_drift();
DROP INDEX dups_v;
SELECT kind, object, change FROM dbkit_drift();
-- a role without rights on dbkit's tables polls the same answer
CREATE ROLE dbkit_incdrift_monitor IN ROLE pg_monitor;
GRANT USAGE ON SCHEMA dbkit TO dbkit_incdrift_monitor;
GRANT SELECT ON ALL TABLES IN SCHEMA dbkit TO dbkit_incdrift_monitor;
SET ROLE dbkit_incdrift_monitor;
SELECT kind, object, change FROM dbkit_drift();
RESET ROLE;
SELECT count(*) FROM dbkit_accept_drift('before the identity changes');
-- an identity's sequence options changed by hand: through ALTER SEQUENCE on its
-- sequence (the event names the sequence; its column's table is re-read), then
-- through the column
ALTER SEQUENCE core.posts_id_seq MAXVALUE 100000;
SELECT * FROM same_live();
SELECT kind, object, change, detail FROM dbkit_drift();
ALTER TABLE core.posts ALTER COLUMN id SET INCREMENT BY 5;
SELECT * FROM same_live();
SELECT kind, object, change, detail FROM dbkit_drift();
ALTER TABLE core.posts ALTER COLUMN id SET INCREMENT BY 1 SET MAXVALUE 2147483647;
SELECT * FROM same_live();
SELECT count(*) AS drift FROM dbkit_drift();
-- comments (issue 10): a change of their object's entry, found on the dirty set
CREATE VIEW core.bodies AS SELECT id, body FROM core.posts;
SELECT count(*) FROM dbkit_accept_drift('before the comments');
COMMENT ON TABLE core.posts IS 'what people write';
COMMENT ON COLUMN core.posts.body IS 'markdown';
COMMENT ON CONSTRAINT posts_body_check ON core.posts IS 'never empty';
COMMENT ON POLICY own ON core.posts IS 'authors only';
SELECT * FROM same_live();
SELECT kind, object, change, detail FROM dbkit_drift() ORDER BY 1, 2;
COMMENT ON TYPE core.mood IS 'how they feel';
COMMENT ON FUNCTION core.touch() IS 'it''s a trigger';
COMMENT ON INDEX other_pkey IS 'by id';
COMMENT ON SCHEMA core IS 'the application';
COMMENT ON COLUMN core.bodies.body IS 'as written';  -- a view's column: its view's entry
SELECT * FROM same_live();
SELECT kind, object, change, detail FROM dbkit_drift() ORDER BY 1, 2;
-- a comment removed is one change too
SELECT count(*) FROM dbkit_accept_drift('the comments');
COMMENT ON COLUMN core.posts.body IS NULL;
SELECT * FROM same_live();
SELECT kind, object, change, detail FROM dbkit_drift();
-- a partition tree three levels deep: a column added to the root reaches every level,
-- while pg_depend links each partition to its direct parent only; the set holds them all
CREATE TABLE core.tree (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE core.tree_2024 PARTITION OF core.tree FOR VALUES FROM ('2024-01-01') TO ('2025-01-01') PARTITION BY RANGE (at);
CREATE TABLE core.tree_2024_h1 PARTITION OF core.tree_2024 FOR VALUES FROM ('2024-01-01') TO ('2024-07-01');
SELECT count(*) FROM dbkit_accept_drift('a partition tree');
ALTER TABLE core.tree ADD COLUMN c int;
SELECT * FROM same_live();
SELECT kind, object, change FROM dbkit_drift() ORDER BY 1, 2;
-- a GRANT explains the object it names, not that object's constraints
SELECT count(*) FROM dbkit_accept_drift('before a grant and a constraint');
GRANT SELECT ON core.tree TO dbkit_incdrift_owner;
ALTER TABLE core.tree ADD CONSTRAINT tree_id CHECK (id > 0);
SELECT kind, object, change, (SELECT string_agg(a ->> 'command', ', ') FROM jsonb_array_elements(audit) a) AS audit
  FROM dbkit_drift() WHERE kind IN ('table', 'constraint') ORDER BY 1, 2;
-- DROP OWNED revokes a role's privileges, then drops what the role owns, in one command:
-- the revoke names a table gone by then (left out: its drop is recorded, and the command runs)
CREATE ROLE dbkit_incdrift_tenant;
CREATE SCHEMA tenant_s AUTHORIZATION dbkit_incdrift_tenant;
CREATE TABLE tenant_s.t (id int);
GRANT SELECT ON tenant_s.t TO dbkit_incdrift_tenant;
DROP OWNED BY dbkit_incdrift_tenant CASCADE;
SELECT to_regclass('tenant_s.t') AS dropped;
SELECT equal FROM same_live();
DROP ROLE dbkit_incdrift_tenant;
-- ALTER SEQUENCE ... OWNED BY: a serial's sequence released by hand (a later DROP of the
-- column would no longer take it along), and owned again
CREATE TABLE core.counted (id serial PRIMARY KEY);
SELECT count(*) FROM dbkit_accept_drift('before OWNED BY');
ALTER SEQUENCE core.counted_id_seq OWNED BY NONE;
SELECT * FROM same_live();
SELECT kind, object, change, detail FROM dbkit_drift();
ALTER SEQUENCE core.counted_id_seq OWNED BY core.counted.id;
SELECT equal FROM same_live();
SELECT count(*) AS drift FROM dbkit_drift();
-- a role with no reading rights: the refusal names what it lacks, not dbkit's query (attack 7)
CREATE ROLE dbkit_incdrift_nobody;
SET ROLE dbkit_incdrift_nobody;
SELECT count(*) FROM dbkit_drift();
RESET ROLE;
DROP ROLE dbkit_incdrift_nobody;
-- REASSIGN OWNED fires no event trigger (PostgreSQL runs it as a command on a global
-- object): the guard's owner samples see it, and the poll compares (attack 7: "no drift")
CREATE ROLE dbkit_incdrift_a;
CREATE ROLE dbkit_incdrift_b;
CREATE TABLE core.owned (id int);
CREATE FUNCTION core.owned_fn() RETURNS int LANGUAGE sql AS 'SELECT 1';
ALTER TABLE core.owned OWNER TO dbkit_incdrift_a;
ALTER FUNCTION core.owned_fn() OWNER TO dbkit_incdrift_a;
SELECT count(*) > 0 AS stored FROM dbkit_accept_drift('before REASSIGN OWNED');
SELECT count(*) AS drift FROM dbkit_drift();
REASSIGN OWNED BY dbkit_incdrift_a TO dbkit_incdrift_b;
SELECT kind, object, change FROM dbkit_drift() ORDER BY 1, 2;
SELECT count(*) > 0 AS stored FROM dbkit_accept_drift('after REASSIGN OWNED');
SELECT count(*) AS drift FROM dbkit_drift();
DROP TABLE core.owned;
DROP FUNCTION core.owned_fn();
\c regression
DROP DATABASE dbkit_incdrift;
DROP ROLE dbkit_incdrift_a;
DROP ROLE dbkit_incdrift_b;
DROP ROLE dbkit_incdrift_owner;
DROP ROLE dbkit_incdrift_monitor;
