-- dbkit keeps the plans of its fixed lookups for the session (spi::execute_cached):
-- they must still answer from the catalogs as they are now. In one session: the
-- trust check of drizzle's table sees a trigger added after a first run, and its
-- removal; the deployer check sees a revoke (each privilege: DELETE alone missing) and the grant back; the extension dropped and created
-- again (every relation a kept plan read has a new oid) still works.
CREATE DATABASE dbkit_session_plans;
\c dbkit_session_plans
CREATE EXTENSION dbkit;
\set VERBOSITY terse
\i regress/sql/mkfolder.inc
SELECT tag, action FROM dbkit_apply(mkfolder('0000_a', 'CREATE TABLE a (id int);'));
-- a trigger on drizzle's table after the first run: the kept plan of the trust check sees it
CREATE FUNCTION nope() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
CREATE TRIGGER sneaky BEFORE INSERT ON drizzle.__drizzle_migrations FOR EACH ROW EXECUTE FUNCTION nope();
SELECT tag, action FROM dbkit_apply(mkfolder('0000_a', 'CREATE TABLE a (id int);', '0001_b', 'CREATE TABLE b (id int);'));
DROP TRIGGER sneaky ON drizzle.__drizzle_migrations;
SELECT tag, action FROM dbkit_apply(mkfolder('0000_a', 'CREATE TABLE a (id int);', '0001_b', 'CREATE TABLE b (id int);'));
-- the deployer check, as a role that loses a privilege in between
CREATE ROLE dbkit_sp_deployer;
SELECT count(*) > 0 AS granted FROM dbkit_grant_deployer('dbkit_sp_deployer');
GRANT CREATE ON SCHEMA public TO dbkit_sp_deployer;
SET ROLE dbkit_sp_deployer;
SELECT tag, action FROM dbkit_apply(mkfolder('0000_a', 'CREATE TABLE a (id int);', '0001_b', 'CREATE TABLE b (id int);',
  '0002_c', 'CREATE TABLE c (id int);')) WHERE action <> 'already_applied';
RESET ROLE;
REVOKE DELETE ON dbkit.progress FROM dbkit_sp_deployer;
SET ROLE dbkit_sp_deployer;
SELECT tag, action FROM dbkit_apply(mkfolder('0000_a', 'CREATE TABLE a (id int);', '0001_b', 'CREATE TABLE b (id int);',
  '0002_c', 'CREATE TABLE c (id int);', '0003_d', 'CREATE TABLE d (id int);')) WHERE action <> 'already_applied';
RESET ROLE;
GRANT DELETE ON dbkit.progress TO dbkit_sp_deployer;
SET ROLE dbkit_sp_deployer;
SELECT tag, action FROM dbkit_apply(mkfolder('0000_a', 'CREATE TABLE a (id int);', '0001_b', 'CREATE TABLE b (id int);',
  '0002_c', 'CREATE TABLE c (id int);', '0003_d', 'CREATE TABLE d (id int);')) WHERE action <> 'already_applied';
RESET ROLE;
-- the extension dropped and created again in the same session: new oids under every kept plan
DROP EXTENSION dbkit CASCADE;
CREATE EXTENSION dbkit;
SELECT tag, action FROM dbkit_apply(mkfolder('0000_a', 'CREATE TABLE a (id int);', '0001_b', 'CREATE TABLE b (id int);',
  '0002_c', 'CREATE TABLE c (id int);', '0003_d', 'CREATE TABLE d (id int);', '0004_e', 'CREATE TABLE e (id int);'));
SELECT count(*) AS drift FROM dbkit_drift();
\c regression
DROP DATABASE dbkit_session_plans;
DROP ROLE dbkit_sp_deployer;
