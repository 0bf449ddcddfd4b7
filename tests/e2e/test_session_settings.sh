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

# changed and reset within the migration: applies
d=$WORK/reset
mkdir -p "$d"
printf 'SET ROLE s7_reader;\n--> statement-breakpoint\nSELECT current_user;\n--> statement-breakpoint\nRESET ROLE;\n--> statement-breakpoint\nCREATE TABLE "ok_t" ("id" integer PRIMARY KEY);\n' >"$d/0000_reset.sql"
write_journal "$d"
run migrate --dir "$d"
assert_eq 0 "$RC" "SET ROLE ... RESET ROLE: applies ($ERR)"
assert_eq "1" "$(q "SELECT count(*) FROM dbkit.migrations WHERE tag = '0000_reset'")" "SET ROLE ... RESET ROLE: recorded"
q "DROP OWNED BY s7_reader; DROP ROLE s7_reader"
finish
