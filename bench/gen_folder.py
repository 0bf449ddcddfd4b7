#!/usr/bin/env python3
"""Deterministic drizzle-kit journal-layout migration folder for benchmarks (issue 6).

  gen_folder.py N OUT_DIR [--small] [--all-sql FILE]

Default: migration k creates table t<k> with 6 columns (bigserial PK, parent_id, name, email,
created_at, payload), a foreign key to t<k-1> (t0 references itself), 2 indexes and a COMMENT:
5 statements separated by `--> statement-breakpoint`, as drizzle-kit writes them.
--small: one tiny table per migration (`CREATE TABLE s<k> (id integer PRIMARY KEY)`).
Writes OUT_DIR/NNNN_bench_<k>.sql and OUT_DIR/meta/_journal.json (version 7, dialect
postgresql, `when` increasing by 1000 ms from a fixed epoch). No snapshots (no tool here reads
them). --all-sql FILE: also every migration concatenated in journal order with the breakpoint
markers removed (what `psql -1 -f` runs as the floor).
"""
import argparse
import json
import os

BREAK = "--> statement-breakpoint"
EPOCH_MS = 1700000000000


def big(k: int) -> str:
    t, p = f"t{k}", f"t{max(k - 1, 0)}"
    return (
        f'CREATE TABLE "{t}" (\n'
        f'\t"id" bigserial PRIMARY KEY NOT NULL,\n'
        f'\t"parent_id" bigint,\n'
        f'\t"name" text NOT NULL,\n'
        f'\t"email" varchar(255),\n'
        f'\t"created_at" timestamp with time zone DEFAULT now() NOT NULL,\n'
        f'\t"payload" jsonb\n'
        f");\n{BREAK}\n"
        f'ALTER TABLE "{t}" ADD CONSTRAINT "{t}_parent_id_{p}_id_fk" FOREIGN KEY ("parent_id") '
        f'REFERENCES "public"."{p}"("id") ON DELETE no action ON UPDATE no action;{BREAK}\n'
        f'CREATE INDEX "{t}_name_idx" ON "{t}" USING btree ("name");{BREAK}\n'
        f'CREATE INDEX "{t}_created_at_idx" ON "{t}" USING btree ("created_at","parent_id");{BREAK}\n'
        f"COMMENT ON TABLE \"{t}\" IS 'generated benchmark table {k}';"
    )


def small(k: int) -> str:
    return f'CREATE TABLE "s{k}" (\n\t"id" integer PRIMARY KEY NOT NULL\n);\n'


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("out")
    ap.add_argument("--small", action="store_true")
    ap.add_argument("--all-sql")
    a = ap.parse_args()
    os.makedirs(os.path.join(a.out, "meta"), exist_ok=True)
    entries, parts = [], []
    for k in range(a.n):
        tag = f"{k:04d}_bench_{k}"
        sql = (small if a.small else big)(k)
        with open(os.path.join(a.out, tag + ".sql"), "w", encoding="utf-8", newline="\n") as f:
            f.write(sql)
        entries.append({"idx": k, "version": "7", "when": EPOCH_MS + 1000 * k, "tag": tag, "breakpoints": True})
        parts.append(sql.replace(BREAK, "\n"))
    with open(os.path.join(a.out, "meta", "_journal.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump({"version": "7", "dialect": "postgresql", "entries": entries}, f, indent=2)
        f.write("\n")
    if a.all_sql:
        with open(a.all_sql, "w", encoding="utf-8", newline="\n") as f:
            f.write("\n".join(parts) + "\n")


if __name__ == "__main__":
    main()
