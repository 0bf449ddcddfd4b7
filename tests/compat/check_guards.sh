#!/usr/bin/env bash
# make check-compat: the PostgreSQL calls that differ between 13 and 17 (docs/compat.md) appear only in
# extension/pg_compat.hpp, behind PG_VERSION_NUM; everywhere else goes through dbkit::compat. Only 15 can
# be compiled here, so this keeps a new direct call from slipping past the guards unnoticed.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
# identifier (as a regex) -> the wrapper to use instead
declare -A use=(
	['\braw_parser[[:space:]]*\(']='compat::raw_parse'
	['\bInitMaterializedSRF\b']='compat::init_materialized_srf'
	['\bSetSingleFuncCall\b']='compat::init_materialized_srf'
	['\bMarkGUCPrefixReserved\b']='compat::reserve_guc_prefix'
	['\bEmitWarningsOnPlaceholders\b']='compat::reserve_guc_prefix'
	['\bpg_cryptohash_[a-z]+[[:space:]]*\(']='compat::sha256'
	['\bpg_sha256_[a-z]+[[:space:]]*\(']='compat::sha256'
	['ReindexStmt[^;]*->(params|concurrent)\b']='compat::reindex_concurrently'
	['->objtype\b']='compat::alter_table_objtype or compat::create_table_as_objtype'
	['\bgetObjectIdentity[[:space:]]*\(']='compat::object_identity'
	['->relkind\b']='compat::alter_table_objtype'
)
fails=0
for re in "${!use[@]}"; do
	hits=$(grep -nE -e "$re" "$src"/extension/*.cpp "$src"/extension/*.hpp | grep -v '/pg_compat.hpp:' |
		grep -vE ':[0-9]+:[[:space:]]*//' |
		grep -v 'istmt->objtype' || true)  # InternalGrant.objtype: an ObjectType in every supported major
	if [[ -n $hits ]]; then
		echo "FAIL: version-specific call outside pg_compat.hpp, use ${use[$re]}:" >&2
		echo "$hits" >&2
		fails=$((fails + 1))
	else
		echo "ok: ${re} only in pg_compat.hpp"
	fi
done
# every wrapper has a branch per version boundary it documents
for w in raw_parse init_materialized_srf reserve_guc_prefix sha256 reindex_concurrently alter_table_objtype \
	create_table_as_objtype object_identity; do
	grep -q "inline [a-zA-Z *]*\b$w(" "$src/extension/pg_compat.hpp" && echo "ok: compat::$w defined" ||
		{ echo "FAIL: compat::$w missing" >&2; fails=$((fails + 1)); }
	grep -q "compat::$w" "$src"/extension/*.cpp && echo "ok: compat::$w used" ||
		{ echo "FAIL: compat::$w unused" >&2; fails=$((fails + 1)); }
done
((fails == 0)) || { echo "$fails guard check(s) failed" >&2; exit 1; }
echo "all guard checks passed"
