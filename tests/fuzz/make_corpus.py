#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_core (tests/fuzz/corpus/) from the test fixtures.

Each seed uses fuzz_core.cpp's framing: a mode byte, then NUL-separated parts.
Run it again after changing the framing; `--check` tells whether corpus/ is up to date.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SAAS = os.path.join(ROOT, "tests/fixtures/drizzle-saas/migrations")
CORPUS = os.path.join(ROOT, "tests/check-corpus")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def folder_files(root, skip=()):
    """relative path -> bytes, sorted, without meta/_journal.json."""
    out = []
    for d, _, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            rel = os.path.relpath(p, root)
            if rel == "meta/_journal.json" or rel in skip:
                continue
            out.append((rel, read(p)))
    return sorted(out)


def folder_seed(root, ctl, skip=()):
    journal = os.path.join(root, "meta/_journal.json")
    parts = [ctl]
    mode = b"G"
    if os.path.exists(journal):
        mode = b"F"
        parts.append(read(journal))
    for rel, content in folder_files(root, skip):
        parts += [rel.encode(), content]
    return mode + b"\0".join(parts)


LIVE = b"""{
  "table:public.users": {"kind": "table"},
  "column:public.users.id": {"type": "integer", "not_null": true, "default": "nextval('users_id_seq'::regclass)"},
  "column:public.users.email": {"type": "character varying(100)", "not_null": false},
  "constraint:public.users.users_pkey": {"type": "primary key", "definition": "PRIMARY KEY (id)"},
  "index:public.users_pkey": {"definition": "CREATE UNIQUE INDEX users_pkey ON public.users USING btree (id)"},
  "index:public.users_email_idx": {"definition": "CREATE UNIQUE INDEX users_email_idx ON public.users USING btree (lower(email)) WHERE (email IS NOT NULL)"},
  "enum:public.mood": {"labels": ["sad", "ok", "happy"]}}"""

CODE_V7 = b"""{"version": "7", "tables": {"public.users": {"name": "users", "schema": "",
  "columns": {"id": {"name": "id", "type": "serial", "primaryKey": true, "notNull": true},
              "email": {"name": "email", "type": "varchar(100)", "primaryKey": false, "notNull": true, "isUnique": true},
              "at": {"name": "at", "type": "timestamp (3) with time zone", "notNull": true, "default": "(now())::timestamp"},
              "active": {"name": "active", "type": "boolean", "primaryKey": false, "notNull": true, "default": false}},
  "indexes": {"users_email_idx": {"name": "users_email_idx", "columns": [{"expression": "email", "isExpression": false}], "isUnique": true}},
  "foreignKeys": {"f": {"name": "users_org_fk", "columnsFrom": ["org"], "schemaTo": "", "tableTo": "orgs", "columnsTo": ["id"], "onDelete": "cascade", "onUpdate": "no action"}},
  "compositePrimaryKeys": {"p": {"name": "users_pk", "columns": ["id", "email"]}},
  "uniqueConstraints": {"u": {"name": "users_u", "columns": ["email"], "nullsNotDistinct": true}}}},
  "enums": {"public.mood": {"name": "mood", "schema": "public", "values": ["sad", "ok"]}}}"""

SQL_TEXT = (
    "-- a comment\n/* nested /* block */ comment */\nCREATE TABLE \"caf\xc3\xa9\" (id int);\n"
    "--> statement-breakpoint\n\tALTER TABLE x ADD COLUMN y text; -- \xe2\x82\xac\n"
    "--> statement-breakpoint\n"
).encode("latin-1")


def seeds():
    meta = os.path.join(SAAS, "meta")
    clean8 = os.path.join(CORPUS, "clean-folders-layout/migrations")
    snap8 = sorted(folder_files(clean8))[-1][1]
    yield "J-journal", b"J" + read(os.path.join(meta, "_journal.json"))
    yield "J-snapshot-v7", b"J" + read(os.path.join(meta, "0004_snapshot.json"))
    yield "J-snapshot-v8", b"J" + snap8
    yield "J-live", b"J" + LIVE
    yield "J-escapes", b'J{"a\\u00e9\\ud83d\\ude00": [1, -0.5e3, true, null, "\\t\\"\\\\/"], "b": {}}'
    yield "T-sql-0002", b"T" + read(os.path.join(SAAS, "0002_add_organizations.sql"))
    yield "T-sql-0008", b"T" + read(os.path.join(SAAS, "0008_add_updated_at_trigger.sql"))
    yield "T-text", b"T" + SQL_TEXT + b"\xff\xc0\x80\xed\xa0\x80\xf4\x90\x80\x80 end"
    yield "T-folder-name", b"T20261125221325_add_x"
    yield "T-type", b"Ttimestamp (3) with time zone[][]"
    # drizzle-saas: every SQL file, the journal and the last two snapshots; ctl covers each plan case
    # (ctl is a part: it must not contain NUL; 0x07 is "pending").
    skip = {f"meta/{n:04d}_snapshot.json" for n in range(7)}
    yield "F-saas", folder_seed(SAAS, b"\x01\x01\x02\x03\x84\x05\x46\x07\x06", skip)
    for case, ctl in (("snapshot-collision", b"\x01"), ("journal-when-not-increasing", b"\x04\x07"),
                      ("journal-tag-invalid", b""), ("folder-both-layouts", b"\x01")):
        yield "F-" + case, folder_seed(os.path.join(CORPUS, case, "migrations"), ctl)
    yield "G-clean-folders", folder_seed(clean8, b"\x01\x03")
    yield "D-v7", b"D" + CODE_V7 + b"\0" + LIVE
    yield "D-v8", b"D" + snap8 + b"\0" + LIVE
    yield "E-changed", (b"E\x03column:public.users.id\0"
                        b'{"type": "integer", "not_null": true, "default": null}\0'
                        b'{"type": "bigint", "not_null": true, "extra": [1, {"a": 2}]}')
    yield "E-added", b"E\x02constraint:public.users.users_pkey\0\0{}"


def main():
    check = "--check" in sys.argv[1:]
    out = os.path.join(HERE, "corpus")
    want = dict(seeds())
    if check:
        have = {n: read(os.path.join(out, n)) for n in os.listdir(out)} if os.path.isdir(out) else {}
        if have != want:
            print("tests/fuzz/corpus is out of date: run tests/fuzz/make_corpus.py", file=sys.stderr)
            return 1
        return 0
    os.makedirs(out, exist_ok=True)
    for n in os.listdir(out):
        if n not in want:
            os.remove(os.path.join(out, n))
    for n, data in want.items():
        with open(os.path.join(out, n), "wb") as f:
            f.write(data)
    print(f"{len(want)} seeds, {sum(map(len, want.values()))} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
