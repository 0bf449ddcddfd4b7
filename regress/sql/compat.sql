-- The PostgreSQL-version wrappers of extension/pg_compat.hpp (docs/compat.md), on the version
-- this runs on: the paths only they reach. (The SHA-256 and SRF wrappers are exercised by every
-- suite: apply checks the hash against sha256().)
CREATE DATABASE dbkit_compat;
\c dbkit_compat
CREATE EXTENSION dbkit;
\set VERBOSITY default

-- reserve_guc_prefix: dbkit.audit exists; a misspelt dbkit.* setting is refused (15+)
SHOW dbkit.audit;
SET dbkit.audti = off;

-- reindex_concurrently: REINDEX ... CONCURRENTLY cannot run in a transaction block, plain REINDEX can
CREATE TABLE t (id int PRIMARY KEY, a int);
CREATE INDEX t_a_idx ON t (a);
SELECT severity, rule, statement FROM dbkit_lint($$ALTER TABLE public.t ADD COLUMN b int;
REINDEX INDEX CONCURRENTLY t_a_idx;$$) WHERE rule = 'tx.non-transactional';
SELECT severity, rule, statement FROM dbkit_lint($$ALTER TABLE public.t ADD COLUMN b int;
REINDEX INDEX t_a_idx;$$) WHERE rule = 'tx.non-transactional';
SELECT severity, rule, statement FROM dbkit_lint($$ALTER TABLE public.t ADD COLUMN b int;
REINDEX (VERBOSE) TABLE CONCURRENTLY t;$$) WHERE rule = 'tx.non-transactional';

-- alter_table_objtype: the linter reads ALTER TABLE (t is empty: info), not ALTER INDEX (same parse node)
SELECT severity, rule, statement FROM dbkit_lint($$ALTER TABLE public.t DROP COLUMN a;$$);
SELECT count(*) AS findings FROM dbkit_lint($$ALTER INDEX public.t_a_idx SET (fillfactor = 50);$$);

\c postgres
DROP DATABASE dbkit_compat;
