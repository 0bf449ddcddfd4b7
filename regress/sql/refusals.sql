-- Every refusal names the migration, says what to do, and applies nothing.
CREATE DATABASE dbkit_refusals;
\c dbkit_refusals
CREATE EXTENSION dbkit;
\set VERBOSITY default
\i regress/sql/mkfolder.inc

SELECT action, tag FROM dbkit_apply(mkfolder('0000_a', 'CREATE TABLE a (id int);', '0002_c', 'CREATE TABLE c (id int);'));

-- an applied file was edited
SELECT * FROM dbkit_apply(mkfolder('0000_a', 'CREATE TABLE a (id bigint);', '0002_c', 'CREATE TABLE c (id int);'));
SELECT 'session still usable' AS ok;

-- an applied file is gone (and a new one would have been applied: it is not)
SELECT * FROM dbkit_apply(mkfolder('0000_a', 'CREATE TABLE a (id int);', '0003_d', 'CREATE TABLE d (id int);'));
SELECT to_regclass('d') IS NULL AS d_not_created;

-- a branch merged late: 0001_b sorts before 0002_c, already applied
SELECT * FROM dbkit_apply(mkfolder('0000_a', 'CREATE TABLE a (id int);', '0001_b', 'CREATE TABLE b (id int);',
                                   '0002_c', 'CREATE TABLE c (id int);'));
SELECT to_regclass('b') IS NULL AS b_not_created;
SELECT idx, tag, state, note FROM dbkit_status(mkfolder('0000_a', 'CREATE TABLE a (id int);', '0001_b', 'CREATE TABLE b (id int);',
                                   '0002_c', 'CREATE TABLE c (id int);'));
-- ... unless allowed
SELECT idx, tag, action, note FROM dbkit_apply(mkfolder('0000_a', 'CREATE TABLE a (id int);', '0001_b', 'CREATE TABLE b (id int);',
                                   '0002_c', 'CREATE TABLE c (id int);'), '{"out_of_order": true}');
SELECT tag FROM dbkit_status();

-- the journal itself
SELECT * FROM dbkit_apply('{"journal": "{\"version\": \"7\", \"dialect\": \"postgresql\", \"entries\": [}", "files": {}}');
SELECT * FROM dbkit_apply('{"journal": "{\"version\": \"8\", \"dialect\": \"postgresql\", \"entries\": []}", "files": {}}');
SELECT * FROM dbkit_apply('{"journal": "{\"version\": \"7\", \"dialect\": \"mysql\", \"entries\": []}", "files": {}}');
SELECT * FROM dbkit_apply('{"journal": "{\"dialect\": \"postgresql\", \"entries\": []}", "files": {}}');
SELECT * FROM dbkit_apply('{"journal": "[]", "files": {}}');
-- an entry without its file
SELECT * FROM dbkit_apply(jsonb_set(mkfolder('0000_a', 'CREATE TABLE a (id int);', '0001_b', 'x'), '{files}', '{"0000_a.sql": "CREATE TABLE a (id int);"}'));
-- an entry with a missing field, a wrong type, an unsafe tag, a duplicate tag
SELECT * FROM dbkit_apply('{"journal": "{\"version\": \"7\", \"dialect\": \"postgresql\", \"entries\": [{\"idx\": 0, \"tag\": \"0000_a\", \"breakpoints\": true}]}", "files": {"0000_a.sql": ""}}');
SELECT * FROM dbkit_apply('{"journal": "{\"version\": \"7\", \"dialect\": \"postgresql\", \"entries\": [{\"idx\": \"0\", \"when\": 1, \"tag\": \"0000_a\", \"breakpoints\": true}]}", "files": {"0000_a.sql": ""}}');
SELECT * FROM dbkit_apply('{"journal": "{\"version\": \"7\", \"dialect\": \"postgresql\", \"entries\": [{\"idx\": 0, \"when\": 1, \"tag\": \"../etc/passwd\", \"breakpoints\": true}]}", "files": {}}');
SELECT * FROM dbkit_apply('{"journal": "{\"version\": \"7\", \"dialect\": \"postgresql\", \"entries\": [{\"idx\": 0, \"when\": 1, \"tag\": \"0000_a\", \"breakpoints\": true}, {\"idx\": 1, \"when\": 2, \"tag\": \"0000_a\", \"breakpoints\": true}]}", "files": {"0000_a.sql": "CREATE TABLE a (id int);"}}');
-- the payload's shape
SELECT * FROM dbkit_apply('[1, 2]');
SELECT * FROM dbkit_apply('{"journal": 7, "files": {}}');
SELECT * FROM dbkit_apply('{"files": {"0000_a.sql": 1}}');
SELECT * FROM dbkit_apply('{"journal": null}');
SELECT * FROM dbkit_apply(NULL);
-- options
SELECT * FROM dbkit_apply('{"files": {}}', '{"out_of_ordr": true}');
SELECT * FROM dbkit_apply('{"files": {}}', '{"out_of_order": "yes"}');
SELECT * FROM dbkit_apply('{"files": {}}', '"x"');

-- ROLLBACK in a file and COPY FROM STDIN are refused before anything runs (a file wrapped in
-- BEGIN ... COMMIT is not: see transaction_control in tests/e2e); CREATE INDEX CONCURRENTLY
-- and VACUUM make their migration non-transactional: apply stops there and hands it to the client
SELECT * FROM dbkit_apply(mkfolder('0000_a', 'CREATE TABLE a (id int);', '0001_b', 'CREATE TABLE b (id int);',
                                   '0002_c', 'CREATE TABLE c (id int);',
                                   '0003_idx', E'CREATE TABLE e (id int);\n--> statement-breakpoint\nCREATE INDEX CONCURRENTLY e_id ON e (id);'));
SELECT * FROM dbkit_apply(mkfolder('0000_a', 'CREATE TABLE a (id int);', '0001_b', 'CREATE TABLE b (id int);',
                                   '0002_c', 'CREATE TABLE c (id int);',
                                   '0003_tx', E'BEGIN;\nCREATE TABLE e (id int);\nROLLBACK;'));
SELECT * FROM dbkit_apply(mkfolder('0000_a', 'CREATE TABLE a (id int);', '0001_b', 'CREATE TABLE b (id int);',
                                   '0002_c', 'CREATE TABLE c (id int);',
                                   '0003_copy', E'COPY a FROM STDIN;'));
SELECT * FROM dbkit_apply(mkfolder('0000_a', 'CREATE TABLE a (id int);', '0001_b', 'CREATE TABLE b (id int);',
                                   '0002_c', 'CREATE TABLE c (id int);',
                                   '0003_vac', E'VACUUM a;'));
SELECT to_regclass('e') IS NULL AS e_not_created, count(*) AS history_rows FROM dbkit.migrations;

-- REPEATABLE READ could miss a concurrent deploy's history: refused
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT * FROM dbkit_apply('{"files": {}}');
ROLLBACK;
SELECT 'session still usable' AS ok;
