#!/usr/bin/env python3
"""Regenerates the `dbkit check` corpus: every case directory beside this file, derived from base/migrations.

    python3 tests/check-corpus/make_corpus.py           # (re)write every case and README.md
    python3 tests/check-corpus/make_corpus.py --check   # exit 1 if the tree differs from what would be written

base/migrations is the only hand-made input: a valid drizzle-kit 0.31 folder (3 migrations: create a table, add a
column, add an index). Each case below copies it in memory, breaks one thing, and is written as

    <case>/migrations/        the folder `dbkit check --dir` is run on
    <case>/expect             one expected finding a line: `<code>` or `<code> <subject>`; empty for a clean case
    <case>/mode               `offline` (found without a database) or `online` (needs PostgreSQL's parser or a
                              database: only `dbkit check` with a connection finds it)
    <case>/setup              only for history cases: the folder inside the case dir to apply with
                              `dbkit migrate --dir` before checking (always `setup-migrations`)
    <case>/setup-migrations/  that folder

Everything is deterministic: no clock, no random ids (new snapshot ids are derived from a label), JSON written the
way drizzle-kit writes it (JSON.stringify(x, null, 2): 2-space indent, no trailing newline). Edit this script, not
the case directories.
"""
import copy
import datetime
import filecmp
import hashlib
import json
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent
BASE = ROOT / "base" / "migrations"
ZERO = "00000000-0000-0000-0000-000000000000"
JOURNAL = "meta/_journal.json"
CUSTOM_HEADER = "-- Custom SQL migration file, put your code below! --"

# Codes dbkit reports as warnings; every other code is an error (tests/e2e/test_check_corpus.sh has the same list).
WARNING_CODES = {
    "journal.idx_not_contiguous",
    "journal.when_not_increasing",
    "folder.file_unlisted",
    "snapshot.missing",
    "snapshot.prev_missing",
    "snapshot.shared",
    "migration.empty",
    "migration.no_transaction",
    "migration.transaction_wrapper",
    "migration.own_transactions",
}


def det_uuid(label):
    """A random-looking (version 4) uuid that depends only on label."""
    digest = hashlib.sha256(("dbkit-check-corpus:" + label).encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def dumps(obj):
    """drizzle-kit's JSON.stringify(obj, null, 2): no trailing newline."""
    return json.dumps(obj, indent=2)


def snap_path(i):
    return "meta/%04d_snapshot.json" % i


class Tree:
    """A migrations folder in memory: relative path -> bytes."""

    def __init__(self, files):
        self.files = dict(files)

    @classmethod
    def load(cls, root):
        return cls({p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()})

    def copy(self):
        return Tree(self.files)

    def text(self, path):
        return self.files[path].decode("utf-8")

    def put(self, path, data):
        self.files[path] = data.encode("utf-8") if isinstance(data, str) else data

    def drop(self, path):
        del self.files[path]

    def json(self, path):
        return json.loads(self.text(path))

    def put_json(self, path, obj):
        self.put(path, dumps(obj))

    def journal(self):
        return self.json(JOURNAL)

    def replace(self, path, old, new, count=1):
        """Text substitution that must match exactly `count` times, so a change of the base cannot go unnoticed."""
        text = self.text(path)
        found = text.count(old)
        if found != count:
            raise SystemExit(f"make_corpus: {path}: expected {count} occurrence(s) of {old!r}, found {found}")
        self.put(path, text.replace(old, new))


BASE_TREE = Tree.load(BASE)
J = BASE_TREE.journal()
TAGS = [e["tag"] for e in J["entries"]]
WHENS = [e["when"] for e in J["entries"]]
T0, T1, T2 = TAGS
IDS = [BASE_TREE.json(snap_path(i))["id"] for i in range(3)]


def check_base():
    """The base must be valid, or every case derived from it means nothing."""
    assert J["version"] == "7" and J["dialect"] == "postgresql", "base journal header"
    assert [e["idx"] for e in J["entries"]] == [0, 1, 2], "base idx"
    assert WHENS == sorted(WHENS) and len(set(WHENS)) == 3, "base when"
    prev = ZERO
    for i, tag in enumerate(TAGS):
        assert tag + ".sql" in BASE_TREE.files, tag
        s = BASE_TREE.json(snap_path(i))
        assert s["prevId"] == prev and s["version"] == "7" and s["dialect"] == "postgresql", snap_path(i)
        prev = s["id"]
    for p, data in BASE_TREE.files.items():
        data.decode("utf-8")
        if p.endswith(".json"):
            assert dumps(json.loads(data)) == data.decode(), f"{p} is not in drizzle-kit's JSON layout"
    assert set(BASE_TREE.files) == {t + ".sql" for t in TAGS} | {JOURNAL} | {snap_path(i) for i in range(3)}


def base():
    return BASE_TREE.copy()


def set_journal(t, fn):
    j = t.journal()
    fn(j)
    t.put_json(JOURNAL, j)


def set_snapshot(t, i, fn):
    s = t.json(snap_path(i))
    fn(s)
    t.put_json(snap_path(i), s)


def add_custom(t, label, name, sql):
    """What `drizzle-kit generate --custom --name NAME` writes, then SQL written by hand: a journal entry, the .sql
    file and a snapshot that copies the previous one with a new id."""
    j = t.journal()
    idx = len(j["entries"])
    tag = "%04d_%s" % (idx, name)
    j["entries"].append({"idx": idx, "version": "7", "when": j["entries"][-1]["when"] + 47_311, "tag": tag,
                         "breakpoints": True})
    t.put_json(JOURNAL, j)
    t.put(tag + ".sql", CUSTOM_HEADER + sql)
    prev = t.json(snap_path(idx - 1))
    s = copy.deepcopy(prev)
    s["id"] = det_uuid(label + "/" + tag)
    s["prevId"] = prev["id"]
    t.put_json(snap_path(idx), s)
    return tag


# ---- drizzle-kit 1.0 folders layout -----------------------------------------------------------------------------

def folder_name(when, tag):
    """<UTC YYYYMMDDHHMMSS of when>_<tag without its index prefix>, as drizzle-kit 1.0 names a migration folder."""
    stamp = datetime.datetime.fromtimestamp(when // 1000, datetime.timezone.utc).strftime("%Y%m%d%H%M%S")
    return stamp + "_" + tag.split("_", 1)[1]


def to_v8(s, prev_ids):
    """A version 7 snapshot as drizzle-kit 1.0 writes it in <folder>/snapshot.json: version "8", dialect "postgres",
    prevIds (a list), and the schema as a flat `ddl` list of entities."""
    tables, columns, indexes, pks = [], [], [], []
    for t in s["tables"].values():
        schema = t["schema"] or "public"
        tables.append({"isRlsEnabled": t["isRLSEnabled"], "name": t["name"], "entityType": "tables",
                       "schema": schema})
        for c in t["columns"].values():
            columns.append({"type": c["type"], "typeSchema": None, "notNull": c["notNull"], "dimensions": 0,
                            "default": c.get("default"), "generated": None, "identity": None, "name": c["name"],
                            "entityType": "columns", "schema": schema, "table": t["name"]})
            if c["primaryKey"]:
                pks.append({"columns": [c["name"]], "nameExplicit": False, "name": t["name"] + "_pkey",
                            "entityType": "pks", "schema": schema, "table": t["name"]})
        for i in t["indexes"].values():
            indexes.append({"nameExplicit": True,
                            "columns": [{"value": c["expression"], "isExpression": c["isExpression"],
                                         "asc": c["asc"], "nullsFirst": c["nulls"] != "last", "opclass": None}
                                        for c in i["columns"]],
                            "isUnique": i["isUnique"], "where": None, "with": "", "method": i["method"],
                            "concurrently": i["concurrently"], "name": i["name"], "entityType": "indexes",
                            "schema": schema, "table": t["name"]})
    return {"version": "8", "dialect": "postgres", "id": s["id"], "prevIds": prev_ids,
            "ddl": tables + columns + indexes + pks, "renames": []}


def folders_layout(t):
    """The journal folder converted to drizzle-kit 1.0's layout: SQL copied byte for byte, no journal."""
    out = Tree({})
    prev = ZERO
    for i, e in enumerate(t.journal()["entries"]):
        d = folder_name(e["when"], e["tag"])
        out.put(d + "/migration.sql", t.files[e["tag"] + ".sql"])
        s = t.json(snap_path(i))
        out.put_json(d + "/snapshot.json", to_v8(s, [prev]))
        prev = s["id"]
    return out


# ---- the cases ----------------------------------------------------------------------------------------------------

CASES = []


def case(name, mode, expect, about, migrations, setup=None):
    assert mode in ("offline", "online")
    for line in expect:
        assert line.split()[0].count(".") == 1, line
    CASES.append({"name": name, "mode": mode, "expect": expect, "about": about, "migrations": migrations,
                  "setup": setup})


def build_cases():
    # journal -------------------------------------------------------------------------------------------------------
    t = base()
    t.put("0002_add_widget_price.sql", 'ALTER TABLE "widgets" ADD COLUMN "price" integer;')
    t.replace(JOURNAL, f'      "when": {WHENS[2]},\n      "tag": "{T2}",\n',
              "<<<<<<< HEAD\n"
              f'      "when": {WHENS[2]},\n      "tag": "{T2}",\n'
              "=======\n"
              f'      "when": {WHENS[2] + 20_417},\n      "tag": "0002_add_widget_price",\n'
              ">>>>>>> feature/widget-price\n")
    case("journal-malformed-json-conflict", "offline", ["journal.malformed_json meta/_journal.json"],
         "git merge left conflict markers in the journal: two branches each added migration 0002", t)

    t = base()
    t.replace(JOURNAL, '    },\n    {\n      "idx": 1,', '    }\n    {\n      "idx": 1,')
    case("journal-malformed-json-comma", "offline", ["journal.malformed_json meta/_journal.json"],
         "hand edit of the journal lost the comma between entries 0 and 1", t)

    t = base()
    t.put_json(JOURNAL, J["entries"])
    case("journal-not-object", "offline", ["journal.not_object meta/_journal.json"],
         "the journal is the entries array alone, not an object", t)

    t = base()
    set_journal(t, lambda j: j.pop("version"))
    case("journal-version-missing", "offline", ["journal.version_missing meta/_journal.json"],
         'the journal has no "version"', t)

    t = base()
    set_journal(t, lambda j: j.update(version="8"))
    case("journal-version-unsupported", "offline", ["journal.version_unsupported meta/_journal.json"],
         'journal "version": "8" (dbkit reads 5, 6, 7)', t)

    t = base()
    set_journal(t, lambda j: j.pop("dialect"))
    case("journal-dialect-missing", "offline", ["journal.dialect_missing meta/_journal.json"],
         'the journal has no "dialect"', t)

    t = base()
    set_journal(t, lambda j: j.update(dialect="mysql"))
    case("journal-dialect-unsupported", "offline", ["journal.dialect_unsupported meta/_journal.json"],
         'journal "dialect": "mysql"', t)

    t = base()
    set_journal(t, lambda j: j.pop("entries"))
    case("journal-entries-missing", "offline", ["journal.entries_missing meta/_journal.json"],
         'the journal has no "entries"', t)

    t = base()
    set_journal(t, lambda j: j["entries"].append(3))
    case("journal-entry-invalid", "offline", ["journal.entry_invalid meta/_journal.json"],
         "a fourth entry that is the number 3, not an object", t)

    t = base()
    set_journal(t, lambda j: j["entries"][1].pop("when"))
    case("journal-entry-field-missing", "offline", [f"journal.entry_field_missing {T1}"],
         f'entry {T1} has no "when"', t)

    t = base()
    set_journal(t, lambda j: j["entries"][1].update(idx="1"))
    case("journal-entry-field-type", "offline", [f"journal.entry_field_type {T1}"],
         f'entry {T1} has "idx": "1" (a string)', t)

    t = base()
    set_journal(t, lambda j: j["entries"].append(
        {"idx": 3, "version": "7", "when": WHENS[2] + 30_000, "tag": "../x", "breakpoints": True}))
    case("journal-tag-invalid", "offline", ["journal.tag_invalid meta/_journal.json"],
         'a fourth entry with tag "../x", a path outside the folder', t)

    t = base()
    t.put("0002_add_widget_price.sql", 'ALTER TABLE "widgets" ADD COLUMN "price" integer;')
    set_journal(t, lambda j: j["entries"].append(
        {"idx": 2, "version": "7", "when": WHENS[2] + 41_000, "tag": "0002_add_widget_price", "breakpoints": True}))
    case("journal-idx-duplicate", "offline", ["journal.idx_duplicate 0002_add_widget_price"],
         "two branches each generated idx 2; the merge kept both entries (and one branch's 0002 snapshot)", t)

    t = base()
    t3 = "0003_" + T2.split("_", 1)[1]
    t.put(t3 + ".sql", t.files[T2 + ".sql"])
    t.drop(T2 + ".sql")
    t.put(snap_path(3), t.files[snap_path(2)])
    t.drop(snap_path(2))
    set_journal(t, lambda j: j["entries"][2].update(idx=3, tag=t3))
    case("journal-idx-not-contiguous", "offline", [f"journal.idx_not_contiguous {t3}"],
         "idx 0, 1, 3: migration 0002 was dropped before it was applied anywhere, the next one kept number 3 "
         "(its snapshot chain is intact)", t)

    t = base()
    set_journal(t, lambda j: j["entries"].append(
        {"idx": 3, "version": "7", "when": WHENS[2] + 52_000, "tag": T2, "breakpoints": True}))
    case("journal-tag-duplicate", "offline", [f"journal.tag_duplicate {T2}"],
         f"a fourth entry (idx 3) repeats tag {T2}", t)

    t = base()
    set_journal(t, lambda j: j["entries"][2].update(when=WHENS[1] - 3_600_000))
    case("journal-when-not-increasing", "offline", [f"journal.when_not_increasing {T2}"],
         f"{T2} was generated on a branch an hour before {T1} and merged after it: its when is smaller "
         "(drizzle's migrator would skip it)", t)

    t = base()
    t.drop(T2 + ".sql")
    case("journal-file-missing", "offline", [f"journal.file_missing {T2}"],
         f"{T2}.sql was deleted, its entry (and snapshot) kept", t)

    t = base()
    t.drop(JOURNAL)
    case("journal-missing", "offline", ["journal.missing meta/_journal.json"],
         "meta/_journal.json was deleted; the .sql files and snapshots remain", t)

    # folder --------------------------------------------------------------------------------------------------------
    t = base()
    t.put("0003_add_widget_price.sql", 'ALTER TABLE "widgets" ADD COLUMN "price" integer;')
    case("folder-file-unlisted", "offline", ["folder.file_unlisted 0003_add_widget_price.sql"],
         "0003_add_widget_price.sql written by hand, no journal entry", t)

    t = base()
    t.put("20261125221325_x/migration.sql", 'ALTER TABLE "widgets" ADD COLUMN "price" integer;')
    case("folder-both-layouts", "offline", ["folder.both_layouts meta/_journal.json"],
         "the journal layout plus a drizzle-kit 1.0 folder 20261125221325_x/migration.sql", t)

    t = folders_layout(base())
    t.put("x_y/migration.sql", 'ALTER TABLE "widgets" ADD COLUMN "price" integer;')
    case("folder-name-invalid", "offline", ["folder.name_invalid x_y"],
         "the folders layout (clean-folders-layout) plus a folder x_y/migration.sql whose name has no timestamp", t)

    # snapshot ------------------------------------------------------------------------------------------------------
    t = base()
    t.replace(snap_path(2), f'  "id": "{IDS[2]}",\n',
              "<<<<<<< HEAD\n"
              f'  "id": "{IDS[2]}",\n'
              "=======\n"
              f'  "id": "{det_uuid("snapshot-unreadable/theirs")}",\n'
              ">>>>>>> feature/widget-index\n")
    case("snapshot-unreadable", "offline", [f"snapshot.unreadable {snap_path(2)}"],
         f"git merge left conflict markers in {snap_path(2)} (the last snapshot, so no other snapshot depends on it)",
         t)

    t = base()
    t.drop(snap_path(2))
    case("snapshot-missing", "offline", ["snapshot.missing"],
         f"{snap_path(2)} was deleted (the last one, so no prevId dangles)", t)

    t = base()
    set_snapshot(t, 2, lambda s: s.update(id=IDS[0]))
    case("snapshot-duplicate-id", "offline", ["snapshot.duplicate_id"],
         f"{snap_path(2)} has the id of {snap_path(0)} (its prevId is still {snap_path(1)}'s id: no collision)", t)

    t = base()
    set_snapshot(t, 2, lambda s: s.update(prevId=det_uuid("snapshot-prev-missing/deleted-parent")))
    case("snapshot-prev-missing", "offline", [f"snapshot.prev_missing {snap_path(2)}"],
         f"{snap_path(2)}'s prevId names a snapshot that is not in the folder", t)

    t = base()
    set_snapshot(t, 2, lambda s: s.update(prevId=IDS[0]))
    case("snapshot-collision", "offline", [f"snapshot.collision {snap_path(0)}"],
         f"{snap_path(1)} and {snap_path(2)} were both generated from {snap_path(0)}: two branches, merged, that both "
         "declare the new column (not commutative: an error; branches touching different objects are a warning)", t)

    t = base()
    t.put("0002_add_widget_price.sql", 'ALTER TABLE "widgets" ADD COLUMN "price" integer;')
    set_journal(t, lambda j: j["entries"].append(
        {"idx": 3, "version": "7", "when": WHENS[2] + 41_000, "tag": "0002_add_widget_price", "breakpoints": True}))
    case("snapshot-shared", "offline", ["snapshot.shared 0002_add_widget_price"],
         f"two branches each added migration 0002; the merge renumbered the second entry's idx to 3 but kept its tag "
         f"and only one {snap_path(2)}, which both entries now name (no snapshot is missing, none collides)", t)

    # migration -----------------------------------------------------------------------------------------------------
    t = base()
    tag = add_custom(t, "migration-empty", "backfill_widget_colors", "")
    case("migration-empty", "offline", [f"migration.empty {tag}"],
         f"{tag}: `drizzle-kit generate --custom` never filled in (only the header comment)", t)

    t = base()
    t.put(T1 + ".sql", t.files[T1 + ".sql"] + b"--> statement-breakpoint\n"
          b"COMMENT ON COLUMN \"widgets\".\"color\" IS 'colour, see \xff';")
    case("migration-invalid-utf8", "offline", ["migration.invalid_utf8"],
         f"{T1}.sql has a 0xff byte (never valid UTF-8) in a string literal", t)

    t = base()
    t.put(T2 + ".sql", 'CREATE INDX "widgets_name_idx" ON "widgets" USING btree ("name");')
    case("migration-syntax-error", "online", [f"migration.syntax_error {T2}"],
         f"{T2}.sql edited by hand: CREATE INDX", t)

    t = base()
    t.put(T2 + ".sql", 'CREATE INDEX CONCURRENTLY "widgets_name_idx" ON "widgets" USING btree ("name");')
    set_snapshot(t, 2, lambda s: s["tables"]["public.widgets"]["indexes"]["widgets_name_idx"].update(concurrently=True))
    case("migration-no-transaction", "online", [f"migration.no_transaction {T2}"],
         f"{T2}: an index declared .concurrently(): CREATE INDEX CONCURRENTLY", t)

    t = base()
    t.put(T1 + ".sql", "BEGIN;\n" + t.text(T1 + ".sql") + "\nCOMMIT;")
    case("migration-transaction-wrapper", "online", [f"migration.transaction_wrapper {T1}"],
         f"{T1}.sql wrapped in BEGIN; ... COMMIT; by hand (runs as one transaction: a warning)", t)

    t = base()
    t.put(T1 + ".sql", "BEGIN;\n" + t.text(T1 + ".sql") + "\nROLLBACK;")
    case("migration-transaction-control", "online", [f"migration.transaction_control {T1}"],
         f"{T1}.sql ends with ROLLBACK; by hand (cannot be honoured)", t)

    t = base()
    t.put(T1 + ".sql", t.text(T1 + ".sql") + "--> statement-breakpoint\nCOMMIT;--> statement-breakpoint\n"
          'UPDATE "widgets" SET "color" = \'red\';')
    case("migration-own-transactions", "online", [f"migration.own_transactions {T1}"],
         f"{T1}.sql commits half-way by hand, then updates (runs statement by statement: a warning)", t)

    t = base()
    tag = add_custom(t, "migration-copy-stdio", "seed_widgets", '\nCOPY "widgets" ("name") FROM STDIN;')
    case("migration-copy-stdio", "online", [f"migration.copy_stdio {tag}"],
         f"{tag}: a custom migration with COPY ... FROM STDIN", t)

    # history: setup-migrations/ is applied first ---------------------------------------------------------------------
    t = base()
    t.put(T1 + ".sql", 'ALTER TABLE "widgets" ADD COLUMN "color" varchar(32);')
    case("history-modified", "online", [f"history.modified {T1}"],
         f"setup applies the base; then {T1}.sql was edited (text -> varchar(32))", t, setup=base())

    t = base()
    t.drop(T2 + ".sql")
    t.drop(snap_path(2))
    set_journal(t, lambda j: j["entries"].pop())
    case("history-missing", "online", [f"history.missing {T2}"],
         f"setup applies the base; then {T2} was removed (entry, file, snapshot) as `drizzle-kit drop` does", t,
         setup=base())

    s = base()
    s.drop(T1 + ".sql")
    s.drop(snap_path(1))
    set_journal(s, lambda j: j["entries"].pop(1))
    set_snapshot(s, 2, lambda x: (x.update(prevId=IDS[0]), x["tables"]["public.widgets"]["columns"].pop("color")))
    case("history-out-of-order", "online", [f"history.out_of_order {T1}"],
         f"setup applies the base without {T1} (main had {T0} and {T2}); the folder then gets {T1} from a branch "
         "merged late", base(), setup=s)

    # clean: no error finding ------------------------------------------------------------------------------------------
    case("clean-base", "offline", [], "the base itself", base())
    case("clean-folders-layout", "offline", [],
         "the base in drizzle-kit 1.0's folders layout: `YYYYMMDDHHMMSS_name/migration.sql` (same bytes, UTC "
         "time of the journal's when) + `snapshot.json` as drizzle-kit 1.0 writes it (version 8: prevIds, ddl)",
         folders_layout(base()))
    t = base()
    tag = add_custom(t, "clean-custom-migration", "add_widget_touch_trigger", """
CREATE OR REPLACE FUNCTION "public"."widgets_touch"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.name := btrim(NEW.name); -- semicolons inside the dollar-quoted body; only the marker splits
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "widgets_touch" BEFORE INSERT OR UPDATE ON "widgets" FOR EACH ROW EXECUTE FUNCTION "public"."widgets_touch"();""")
    case("clean-custom-migration", "offline", [],
         f"the base plus {tag}: a custom migration with a plpgsql function (`;` inside $$) and a trigger", t)


# ---- writing --------------------------------------------------------------------------------------------------------

def write_tree(t, root):
    for path, data in sorted(t.files.items()):
        p = root / path
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)


def readme():
    lines = [
        "# `dbkit check` corpus",
        "",
        "Broken drizzle-kit migration folders, one directory per case, each derived from `base/migrations` (a valid",
        "drizzle-kit 0.31 folder: create a table, add a column, add an index) by `make_corpus.py`. Do not edit the",
        "case directories: edit `make_corpus.py` and run it (`--check` tells whether the tree is up to date).",
        "`tests/e2e/test_check_corpus.sh` runs `dbkit check` on every case.",
        "",
        "A case directory holds `migrations/` (the folder to check), `expect` (one expected finding a line:",
        "`<code>` or `<code> <subject>`; empty for a clean case, which must produce no error), `mode` (`offline`:",
        "found without a database, so both `dbkit check --offline` and `dbkit check` find it; `online`: only",
        "`dbkit check` with a database finds it) and, for history cases, `setup` naming the folder inside the case",
        "(`setup-migrations/`) to apply with `dbkit migrate` first.",
        "",
        "`base/migrations` is written by hand in drizzle-kit 0.31's exact style (`NNNN_tag.sql`, 2-space JSON without",
        "a trailing newline, snapshot chain from the zero uuid); `make_corpus.py` checks it before deriving anything.",
        "A subject is given where dbkit's code or its specification fixes it; `snapshot.missing`,",
        "`snapshot.duplicate_id` and `migration.invalid_utf8` cases name only the code. Findings a case does not",
        "list (consequences of the breakage) are printed by the test, never failed.",
        "",
        "Warnings (exit code 0 when nothing else is wrong): " + ", ".join(f"`{c}`" for c in sorted(WARNING_CODES))
        + ". Every other code is an error (exit code 5).",
        "",
        "| case | mode | expect | what is broken |",
        "|---|---|---|---|",
    ]
    for c in CASES:
        exp = "<br>".join(f"`{e}`" for e in c["expect"]) or "(nothing)"
        mode = c["mode"] + (", setup" if c["setup"] else "")
        lines.append(f"| `{c['name']}` | {mode} | {exp} | {c['about'].replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def generate(out):
    for c in CASES:
        d = out / c["name"]
        write_tree(c["migrations"], d / "migrations")
        (d / "expect").write_text("".join(e + "\n" for e in c["expect"]))
        (d / "mode").write_text(c["mode"] + "\n")
        if c["setup"]:
            (d / "setup").write_text("setup-migrations\n")
            write_tree(c["setup"], d / "setup-migrations")
    (out / "README.md").write_text(readme())


def managed(root):
    """What this script owns under root: README.md and every case directory (a directory with an `expect`)."""
    names = {"README.md"} if (root / "README.md").exists() else set()
    names |= {p.name for p in root.iterdir() if p.is_dir() and (p / "expect").exists()}
    return names


def same_tree(a, b):
    cmp = filecmp.dircmp(a, b)
    if cmp.left_only or cmp.right_only or cmp.funny_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
    return not mismatch and not errors and all(same_tree(a / d, b / d) for d in cmp.common_dirs)


def main(argv):
    check_base()
    build_cases()
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names)), "case names must be unique"
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp)
        generate(fresh)
        if argv[1:] == ["--check"]:
            stale = sorted(managed(ROOT) ^ managed(fresh))
            differ = sorted(n for n in managed(fresh) & managed(ROOT)
                            if not ((ROOT / n).is_dir() and same_tree(ROOT / n, fresh / n)
                                    or (ROOT / n).is_file() and filecmp.cmp(ROOT / n, fresh / n, shallow=False)))
            if stale or differ:
                print("make_corpus: out of date: " + " ".join(stale + differ), file=sys.stderr)
                return 1
            print(f"make_corpus: {len(CASES)} cases up to date")
            return 0
        if argv[1:]:
            print(__doc__, file=sys.stderr)
            return 2
        for n in managed(ROOT):
            p = ROOT / n
            shutil.rmtree(p) if p.is_dir() else p.unlink()
        for n in sorted(managed(fresh)):
            shutil.move(str(fresh / n), str(ROOT / n))
    print(f"make_corpus: wrote {len(CASES)} cases under {ROOT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
