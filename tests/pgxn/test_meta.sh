#!/usr/bin/env bash
# ctest pgxn_meta: META.json against the PGXN Meta Spec 1.0.0 (tests/pgxn/validate_meta.py), the validator
# against broken copies (each must be refused, so a pass means something), the versions of META.json,
# dbkit.control and CMakeLists.txt in step, and `make dist`: the zip PGXN expects.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
v="$src/tests/pgxn/validate_meta.py"
work=$(mktemp -d /tmp/dbkit-pgxn.XXXXXX)
trap 'rm -rf "$work"' EXIT
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

if python3 "$v" "$src/META.json" --tree "$src"; then ok "META.json is valid"; else bad "META.json is not valid"; fi

# Each broken copy must be refused, with the key named.
mutate() { # name python-expression-on-m expected-text
	python3 - "$src/META.json" "$work/$1.json" "$2" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(m, open(sys.argv[2], "w"))
PY
	if out=$(python3 "$v" "$work/$1.json" --tree "$src" 2>&1); then
		bad "$1: accepted a broken META.json"
	elif [[ $out == *"$3"* ]]; then
		ok "$1: refused ($3)"
	else
		bad "$1: refused, but without naming [$3]: $out"
	fi
}
mutate no-license 'del m["license"]' "required key 'license'"
mutate bad-license 'm["license"] = "PostgreSQL License"' "license"
mutate bad-version 'm["version"] = "0.2"' "not a semantic version"
mutate no-provides-file 'del m["provides"]["dbkit"]["file"]' "required key 'file'"
mutate missing-file 'm["provides"]["dbkit"]["file"] = "sql/dbkit.sql"' "does not exist"
mutate control-mismatch 'm["provides"]["dbkit"]["version"] = "0.1.0"' "default_version"
mutate empty-resources 'm["resources"] = {}' "resources: needs at least one of"
mutate bad-range 'm["prereqs"]["runtime"]["requires"]["PostgreSQL"] = "15+"' "not a version range"
mutate unknown-key 'm["homepage"] = "https://example.org"' "unknown key"
mutate bad-meta-spec 'm["meta-spec"]["version"] = "2.0.0"' "meta-spec.version"
mutate bad-name 'm["name"] = "db kit"' "not a term"

# One version everywhere.
meta_v=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$src/META.json")
cmake_v=$(sed -n 's/^project(dbkit VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
ctl_v=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$src/dbkit.control")
if [[ $meta_v == "$cmake_v" && $meta_v == "$ctl_v" ]]; then ok "version $meta_v in META.json, CMakeLists.txt, dbkit.control"
else bad "versions differ: META.json $meta_v, CMakeLists.txt $cmake_v, dbkit.control $ctl_v"; fi

# make dist: dbkit-VERSION.zip, everything under dbkit-VERSION/, META.json at its top, valid there too.
if (cd "$src" && make -s --no-print-directory dist DIST_DIR="$work/dist" >/dev/null 2>"$work/dist.err"); then
	zip="$work/dist/dbkit-$meta_v.zip"
	if [[ -f $zip ]]; then ok "make dist wrote dbkit-$meta_v.zip"; else bad "make dist wrote no $zip"; fi
	if python3 - "$zip" "dbkit-$meta_v/" "$work/x" <<'PY'
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1]); top = sys.argv[2]; names = z.namelist()
outside = [n for n in names if not n.startswith(top)]
need = [top + f for f in ("META.json", "Makefile", "dbkit.control", "README.md", "sql/dbkit--0.1.0.sql",
                           "sql/dbkit--0.1.0--0.2.0.sql")]
missing = [n for n in need if n not in names]
stray = [n for n in names if n.startswith(top + ".ci/") or "/build/" in n or n.endswith((".o", ".so"))]
for what, l in (("outside " + top, outside), ("missing", missing), ("not for the zip", stray)):
    if l: print(what, l[:5], file=sys.stderr)
z.extractall(sys.argv[3])
sys.exit(1 if outside or missing or stray else 0)
PY
	then ok "the zip has one top directory dbkit-$meta_v/ with META.json, the control file and the scripts"
	else bad "the zip's layout is not what PGXN expects"; fi
	if python3 "$v" "$work/x/dbkit-$meta_v/META.json" --tree "$work/x/dbkit-$meta_v" >/dev/null; then
		ok "META.json inside the zip is valid against the zip's own files"
	else bad "META.json inside the zip is not valid against its files"; fi
else
	bad "make dist failed: $(cat "$work/dist.err")"
fi

if ((fails > 0)); then echo "$fails check(s) failed" >&2; exit 1; fi
echo "all assertions passed"
