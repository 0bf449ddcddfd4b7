-- dbkit_apply: apply, re-apply, history, status, drizzle's table kept in step.
CREATE DATABASE dbkit_apply;
\c dbkit_apply
CREATE EXTENSION dbkit;
\set VERBOSITY default

\i regress/sql/mkfolder.inc

-- functions are callable unqualified; state lives in schema dbkit
SELECT n.nspname, p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE p.proname LIKE 'dbkit%' OR n.nspname = 'dbkit' ORDER BY 1, 2;
SELECT count(*) AS history_before FROM dbkit_status();

-- two migrations; the second has three statements split on the breakpoint,
-- one of them a function body with semicolons inside $$ ... $$
SELECT idx, tag, action, statements, hash, note FROM dbkit_apply(mkfolder(
  '0000_users', E'CREATE TABLE "users" (\n\t"id" serial PRIMARY KEY,\n\t"email" text NOT NULL\n);\n',
  '0001_posts', E'CREATE TABLE "posts" ("id" serial PRIMARY KEY, "user_id" integer NOT NULL);--> statement-breakpoint\n' ||
                E'CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN RETURN NEW; END; $f$;\n' ||
                E'--> statement-breakpoint\nCOMMENT ON TABLE "posts" IS ''posts; with a semicolon'';'));

-- the hash is sha256 of the file's bytes
SELECT tag, hash = encode(sha256(convert_to(E'CREATE TABLE "users" (\n\t"id" serial PRIMARY KEY,\n\t"email" text NOT NULL\n);\n', 'UTF8')), 'hex') AS drizzle_hash
  FROM dbkit_status() WHERE tag = '0000_users';
SELECT tag, idx, created_at, statements, how, applied_by = session_user AS by_me, duration_ms >= 0 AS timed
  FROM dbkit_status();
SELECT obj_description('posts'::regclass) AS comment;

-- drizzle's table exists in the 0.x shape with one row per migration (hash, when)
SELECT hash = (SELECT hash FROM dbkit.migrations m WHERE m.created_at = d.created_at) AS same_hash, created_at
  FROM drizzle.__drizzle_migrations d ORDER BY id;

-- re-apply: nothing to do
SELECT idx, tag, action, statements FROM dbkit_apply(mkfolder(
  '0000_users', E'CREATE TABLE "users" (\n\t"id" serial PRIMARY KEY,\n\t"email" text NOT NULL\n);\n',
  '0001_posts', E'CREATE TABLE "posts" ("id" serial PRIMARY KEY, "user_id" integer NOT NULL);--> statement-breakpoint\n' ||
                E'CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN RETURN NEW; END; $f$;\n' ||
                E'--> statement-breakpoint\nCOMMENT ON TABLE "posts" IS ''posts; with a semicolon'';'));
SELECT count(*) AS history_rows, (SELECT count(*) FROM drizzle.__drizzle_migrations) AS drizzle_rows
  FROM dbkit.migrations;

-- status against a folder with one more migration: it is pending
CREATE TEMP TABLE f3 AS SELECT mkfolder(
  '0000_users', E'CREATE TABLE "users" (\n\t"id" serial PRIMARY KEY,\n\t"email" text NOT NULL\n);\n',
  '0001_posts', E'CREATE TABLE "posts" ("id" serial PRIMARY KEY, "user_id" integer NOT NULL);--> statement-breakpoint\n' ||
                E'CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN RETURN NEW; END; $f$;\n' ||
                E'--> statement-breakpoint\nCOMMENT ON TABLE "posts" IS ''posts; with a semicolon'';',
  '0002_published', E'ALTER TABLE "posts" ADD COLUMN "published" boolean DEFAULT false NOT NULL;\n' ||
                    E'CREATE INDEX "posts_published_idx" ON "posts" ("published");') AS f;
SELECT idx, tag, state, file, applied_at IS NOT NULL AS has_applied_at, how FROM dbkit_status((SELECT f FROM f3));
SELECT idx, tag, action, statements FROM dbkit_apply((SELECT f FROM f3));
SELECT idx, tag, state FROM dbkit_status((SELECT f FROM f3));

-- a file without markers is one chunk; PostgreSQL's parser counts two statements in it
SELECT statements FROM dbkit_status() WHERE tag = '0002_published';

-- inside the caller's transaction: a rollback undoes the migration and its record
BEGIN;
SELECT tag, action FROM dbkit_apply(mkfolder(
  '0000_users', E'CREATE TABLE "users" (\n\t"id" serial PRIMARY KEY,\n\t"email" text NOT NULL\n);\n',
  '0001_posts', E'CREATE TABLE "posts" ("id" serial PRIMARY KEY, "user_id" integer NOT NULL);--> statement-breakpoint\n' ||
                E'CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN RETURN NEW; END; $f$;\n' ||
                E'--> statement-breakpoint\nCOMMENT ON TABLE "posts" IS ''posts; with a semicolon'';',
  '0002_published', E'ALTER TABLE "posts" ADD COLUMN "published" boolean DEFAULT false NOT NULL;\n' ||
                    E'CREATE INDEX "posts_published_idx" ON "posts" ("published");',
  '0003_tags', 'CREATE TABLE tags (id int)')) WHERE action = 'applied';
SELECT to_regclass('tags') IS NOT NULL AS tags_inside;
ROLLBACK;
SELECT to_regclass('tags') IS NULL AS tags_gone, count(*) AS history_rows FROM dbkit.migrations;

-- an empty folder against a migrated database: every applied migration is missing
-- (the refusal lists all of them; nothing changes)
SELECT count(*) FROM dbkit_apply('{"files": {}}');
SELECT count(*) AS history_rows FROM dbkit.migrations;
