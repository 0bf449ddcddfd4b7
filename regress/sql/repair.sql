-- History repair: mark-applied, baseline, forget, accept-change; each recorded
-- with who, when and why; drizzle's table kept in step; refusals change nothing.
CREATE DATABASE dbkit_repair;
\c dbkit_repair
CREATE EXTENSION dbkit;
\set VERBOSITY default
\i regress/sql/mkfolder.inc

CREATE TEMP TABLE f AS SELECT mkfolder('0000_a', 'CREATE TABLE a (id int);', '0001_b', 'CREATE TABLE b (id int);',
                                       '0002_c', 'ALTER TABLE a ADD COLUMN note text;', '0003_d', 'CREATE TABLE d (id int);') AS f;

-- an existing database is already at 0001: baseline records 0000 and 0001 without running them
CREATE TABLE a (id int);
CREATE TABLE b (id int);
SELECT * FROM dbkit_baseline((SELECT f FROM f), '0001_b');
SELECT tag, how, statements FROM dbkit_status();
SELECT idx, tag, state FROM dbkit_status((SELECT f FROM f));

-- "duplicate column": the change of 0002 was made by hand; mark it applied
ALTER TABLE a ADD COLUMN note text;
SELECT * FROM dbkit_mark_applied((SELECT f FROM f), '0002_c', 'added by hand during incident 42');
SELECT tag, action FROM dbkit_apply((SELECT f FROM f));

-- forget after a manual rollback: the next apply runs it again
DROP TABLE d;
SELECT * FROM dbkit_forget('0003_d', 'rolled back by hand');
SELECT tag, action FROM dbkit_apply((SELECT f FROM f)) WHERE action = 'applied';

-- accept an intended edit of an applied file
SELECT * FROM dbkit_accept_change((SELECT f FROM f) || jsonb_build_object('files',
  ((SELECT f FROM f)->'files') || '{"0003_d.sql": "CREATE TABLE d (id int); -- documented"}'), '0003_d', 'comment only');
SELECT tag, action FROM dbkit_apply((SELECT f FROM f) || jsonb_build_object('files',
  ((SELECT f FROM f)->'files') || '{"0003_d.sql": "CREATE TABLE d (id int); -- documented"}')) WHERE tag = '0003_d';

-- the audit trail
SELECT action, tag, reason, actor = session_user AS by_me, detail ? 'old_hash' AS has_old_hash FROM dbkit.events ORDER BY id;
-- drizzle's table mirrors the history: same hashes
SELECT (SELECT array_agg(hash ORDER BY hash) FROM dbkit.migrations) = (SELECT array_agg(hash ORDER BY hash) FROM drizzle.__drizzle_migrations) AS drizzle_in_step;

-- refusals
SELECT * FROM dbkit_mark_applied((SELECT f FROM f), '0002_c', 'again');
SELECT * FROM dbkit_mark_applied((SELECT f FROM f), '0009_nope', 'typo');
SELECT * FROM dbkit_mark_applied((SELECT f FROM f), '0002_c', '');
SELECT * FROM dbkit_forget('0009_nope', 'typo');
SELECT * FROM dbkit_accept_change((SELECT f FROM f) || jsonb_build_object('files',
  ((SELECT f FROM f)->'files') || '{"0003_d.sql": "CREATE TABLE d (id int); -- documented"}'), '0001_b', 'not modified');
SELECT count(*) AS events_unchanged FROM dbkit.events;
SELECT 'session still usable' AS ok;
