#!/usr/bin/env bash
# Issue 17 item 7: a migration that leaves the session as another role or
# read-only (SET ROLE, SET SESSION AUTHORIZATION, SET LOCAL ROLE,
# SET transaction_read_only, SET default_transaction_read_only) used to make
# dbkit's own bookkeeping fail with a bare "permission denied for table
# migrations". dbkit names the migration and the statement, says how to write
# it instead, and applies nothing; a migration that changes the role and
# resets it applies.
source "$(dirname "$0")/lib.sh"
fresh_db session_settings
q "DROP ROLE IF EXISTS s7_reader; CREATE ROLE s7_reader"
ME=$(q "SELECT current_user")

refused() { # label sql want-in-message want-in-hint
	local d=$WORK/$RANDOM$RANDOM
	mkdir -p "$d"
	printf 'SELECT 1;\n--> statement-breakpoint\n%s\n--> statement-breakpoint\nSELECT 2;\n' "$2" >"$d/0000_change.sql"
	write_journal "$d"
	local rows_before
	rows_before=$(q "SELECT count(*) FROM dbkit.migrations")
	for mode in all each dry; do
		local args=(migrate --dir "$d")
		[[ $mode == each ]] && args+=(--transaction each)
		[[ $mode == dry ]] && args+=(--dry-run)
		run "${args[@]}"
		assert_eq 1 "$RC" "$1 ($mode): refused"
		assert_contains "$ERR" "migration 0000_change.sql, statement 2 (line 3): SET" "$1 ($mode): names the migration and the statement"
		assert_contains "$ERR" "$3" "$1 ($mode): says what changed"
		assert_contains "$ERR" "$4" "$1 ($mode): says how to write it"
		assert_contains "$ERR" "DK005" "$1 ($mode): SQLSTATE DK005"
		assert_not_contains "$ERR" "permission denied" "$1 ($mode): not the bare permission error"
	done
	assert_eq "$rows_before" "$(q "SELECT count(*) FROM dbkit.migrations")" "$1: nothing recorded"
	assert_eq "$ME off" "$(q "SELECT current_user || ' ' || current_setting('default_transaction_read_only')")" "$1: the session is fine afterwards"
}
refused "SET ROLE" 'SET ROLE s7_reader;' "changed the current user from $ME to s7_reader" "RESET ROLE"
refused "SET LOCAL ROLE" 'SET LOCAL ROLE s7_reader;' "changed the current user from $ME to s7_reader" "RESET ROLE"
refused "SET SESSION AUTHORIZATION" 'SET SESSION AUTHORIZATION s7_reader;' "changed the session user from $ME to s7_reader" "RESET SESSION AUTHORIZATION"
refused "SET default_transaction_read_only" 'SET default_transaction_read_only = on;' "changed default_transaction_read_only to on" "SET default_transaction_read_only = off"
refused "SET transaction_read_only" 'SET transaction_read_only = on;' "changed the transaction to read-only" "Remove the statement"
# the next call's folder would be decoded as LATIN1: wrong hashes recorded, then "modified" (found by an attack)
refused "SET client_encoding" "SET client_encoding = 'LATIN1';" "changed client_encoding from UTF8 to LATIN1" "SET client_encoding = 'UTF8'"


# changed and reset within the migration: applies
d=$WORK/reset
mkdir -p "$d"
printf 'SET ROLE s7_reader;\n--> statement-breakpoint\nSELECT current_user;\n--> statement-breakpoint\nRESET ROLE;\n--> statement-breakpoint\nCREATE TABLE "ok_t" ("id" integer PRIMARY KEY);\n' >"$d/0000_reset.sql"
write_journal "$d"
run migrate --dir "$d"
assert_eq 0 "$RC" "SET ROLE ... RESET ROLE: applies ($ERR)"
assert_eq "1" "$(q "SELECT count(*) FROM dbkit.migrations WHERE tag = '0000_reset'")" "SET ROLE ... RESET ROLE: recorded"
q "DROP OWNED BY s7_reader; DROP ROLE s7_reader"

# Settings a role or database gives its sessions (found by an attack): a role's
# statement_timeout bounded the whole deploy (one call) and --wait; serializable by default
# refused every deploy with a hint to run it on its own, which the client does.
case_begin "role and database defaults"
fresh_db session_defaults
q "DROP ROLE IF EXISTS s7_deployer; CREATE ROLE s7_deployer LOGIN SUPERUSER"
d=$WORK/defaults
mkdir -p "$d"
for i in 0 1 2 3; do
	printf 'SELECT pg_catalog.pg_sleep(0.06);\n--> statement-breakpoint\nCREATE TABLE "slow%s" ("id" integer);\n' "$i" >"$d/000${i}_s$i.sql"
done
write_journal "$d"
q "ALTER ROLE s7_deployer SET statement_timeout = '150ms'"
q "ALTER DATABASE session_defaults SET default_transaction_isolation = 'serializable'"
PGUSER=s7_deployer run migrate --dir "$d"
assert_eq 0 "$RC" "a role's statement_timeout bounds each statement, not the deploy; serializable by default does not refuse it: $ERR"
printf 'SELECT pg_catalog.pg_sleep(0.4);\n' >"$d/0004_too_slow.sql"
write_journal "$d"
PGUSER=s7_deployer run migrate --dir "$d"
assert_eq 1 "$RC" "a statement longer than the role's statement_timeout still stops"
assert_contains "$ERR" "canceling statement due to statement timeout" "by that timeout"
PGUSER=s7_deployer run migrate --dir "$d" --statement-timeout 2s
assert_eq 0 "$RC" "--statement-timeout wins over the role's: $ERR"
q "ALTER DATABASE session_defaults RESET default_transaction_isolation"
# a database made read-only by default (or a hot standby): said so before anything runs;
# the dry run blamed the migration file, and migrate failed inside dbkit.events
q "ALTER DATABASE session_defaults SET default_transaction_read_only = on"
printf 'CREATE TABLE "ro" ("id" integer);\n' >"$d/0005_ro.sql"
write_journal "$d"
for args in "" "--dry-run"; do
	run migrate --dir "$d" $args --statement-timeout 2s
	assert_eq 1 "$RC" "read-only by default ($args): exit 1"
	assert_contains "$ERR" "transactions are read-only by default here (default_transaction_read_only = on" "read-only by default ($args): says why"
	assert_not_contains "$ERR" "0005_ro.sql" "read-only by default ($args): the migration is not blamed"
done
run status --dir "$d"
assert_eq 0 "$RC" "read-only by default: status still reads: $ERR"
assert_contains "$OUT" "0005_ro" "read-only by default: status lists the pending migration"
run init
assert_eq 0 "$RC" "read-only by default: init with the extension current changes nothing and succeeds (an attack: exit 3): $ERR"
PGOPTIONS="-c default_transaction_read_only=off" q "ALTER DATABASE session_defaults RESET default_transaction_read_only"
q "DROP OWNED BY s7_deployer; DROP ROLE s7_deployer"
# A database not in UTF8 (found by an attack): one character its encoding cannot hold,
# anywhere in the folder (an emoji in a comment, a BOM), failed every command with
# PostgreSQL's "byte sequence ... unnamed portal parameter $1", naming no file.
case_begin "a LATIN1 database"
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS session_latin1" \
	-c "CREATE DATABASE session_latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
"${PSQL[@]}" -d session_latin1 -c "CREATE EXTENSION dbkit"
export PGDATABASE=session_latin1
d=$WORK/latin1
mkdir -p "$d"
printf 'CREATE TABLE "caf\xc3\xa9" ("id" integer PRIMARY KEY);\n' >"$d/0000_ok.sql"
write_journal "$d"
run migrate --dir "$d"
assert_eq 0 "$RC" "LATIN1: what it can hold applies: $ERR"
assert_eq "$(sha256sum "$d/0000_ok.sql" | cut -c1-64)" "$(q "SELECT hash FROM dbkit.migrations WHERE tag = '0000_ok'")" \
	"LATIN1: the hash is the file's bytes'"
printf 'SELECT 1;\n-- d\xc3\xa9ploy \xf0\x9f\x9a\x80\nCREATE TABLE "t2" ("id" integer);\n' >"$d/0001_emoji.sql"
write_journal "$d"
for cmd in migrate status check lint; do
	run $cmd --dir "$d"
	assert_eq 1 "$RC" "LATIN1, an emoji in a comment: $cmd fails"
	assert_contains "$ERR" "0001_emoji.sql, line 2, column 11: the character" "LATIN1: $cmd names the file, line and column"
	assert_contains "$ERR" "has no equivalent in this database's encoding, LATIN1" "LATIN1: $cmd says why"
	assert_contains "$ERR" "in a comment as well" "LATIN1: $cmd says what to do"
	assert_not_contains "$ERR" "unnamed portal parameter" "LATIN1: $cmd: not the bare conversion error"
done
assert_eq 0 "$(q "SELECT count(*) FROM pg_tables WHERE tablename = 't2'")" "LATIN1: nothing applied"
assert_eq 1 "$(q "SELECT count(*) FROM dbkit.migrations")" "LATIN1: nothing recorded"
printf '\xef\xbb\xbfCREATE TABLE "t2" ("id" integer);\n' >"$d/0001_emoji.sql"
run migrate --dir "$d"
assert_eq 1 "$RC" "LATIN1, a BOM: refused"
assert_contains "$ERR" "0001_emoji.sql starts with a UTF-8 byte-order mark" "LATIN1, a BOM: names the file and the mark"
assert_contains "$ERR" "without a byte-order mark" "LATIN1, a BOM: says what to do"
printf 'CREATE TABLE "t2" ("id" integer);\n' >"$d/0001_emoji.sql"
run migrate --dir "$d"
assert_eq 0 "$RC" "LATIN1: fixed, it applies: $ERR"
printf 'CREATE TABLE "t3" ("id" integer); -- \xf0\x9f\x9a\x80\n' >"$WORK/latin1_schema.sql"
run drift --schema "$WORK/latin1_schema.sql"
assert_contains "$ERR" "$WORK/latin1_schema.sql, line 1, column 38: the character" "LATIN1: drift --schema names the schema file"
run accept-drift --reason $'deploy \xf0\x9f\x9a\x80'
assert_contains "$ERR" "the --reason text, column 8: the character" "LATIN1: a --reason is named as such"
assert_contains "$ERR" "write it with characters LATIN1 holds" "LATIN1: and what to do"
finish
