-- dbkit 0.1.0 -> 0.2.0. sql/dbkit--0.1.0.sql is released and frozen: every change to
-- dbkit's SQL objects since then lives here (and in later upgrade scripts), so that
-- ALTER EXTENSION dbkit UPDATE keeps a database's history, snapshots and audit.
-- A fresh CREATE EXTENSION runs 0.1.0 and then this script: fresh and upgraded
-- installs are built by the same statements.
\echo Use "ALTER EXTENSION dbkit UPDATE TO '0.2.0'" to load this file. \quit

