#!/usr/bin/env python3
"""A drizzle-kit project with N generated tables, for bench/engine_generate_bench.sh (issue 10).

  gen_drizzle_schema.py N OUT_DIR [--changed]

Writes OUT_DIR/schema.ts and OUT_DIR/drizzle.config.ts (dialect postgresql, out ./drizzle).
Two enums (status, priority). Table t<k> (k = 0..N-1) has 8 columns: id bigserial PK,
parent_id bigint REFERENCES t<k-1>(id) (t0: none), name text NOT NULL, email varchar(255),
status (enum) NOT NULL DEFAULT 'active', amount numeric(12,2) DEFAULT 0, created_at timestamptz
NOT NULL DEFAULT now(), payload jsonb; indexes: (parent_id), (name, created_at), and on every
tenth table a unique index on email.
--changed: the one change timed by the benchmark: table t<N/2> gains a column
`note text` and an index t<N/2>_note_idx on it.
"""
import argparse
import os

HEAD = """import {
  pgTable, pgEnum, bigserial, bigint, text, varchar, numeric, timestamp, jsonb, index, uniqueIndex,
} from "drizzle-orm/pg-core";

export const status = pgEnum("status", ["active", "suspended", "deleted"]);
export const priority = pgEnum("priority", ["low", "normal", "high", "urgent"]);
"""


def table(k: int, changed: bool) -> str:
    t = f"t{k}"
    cols = [
        'id: bigserial("id", { mode: "number" }).primaryKey()',
        'parentId: bigint("parent_id", { mode: "number" })'
        + (f".references(() => t{k - 1}.id)" if k > 0 else ""),
        'name: text("name").notNull()',
        'email: varchar("email", { length: 255 })',
        ('status: status("status").notNull().default("active")' if k % 2 == 0
         else 'priority: priority("priority").notNull().default("normal")'),
        'amount: numeric("amount", { precision: 12, scale: 2 }).default("0")',
        'createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow()',
        'payload: jsonb("payload")',
    ]
    idx = [
        f'index("{t}_parent_id_idx").on(t.parentId)',
        f'index("{t}_name_created_idx").on(t.name, t.createdAt)',
    ]
    if k % 10 == 0:
        idx.append(f'uniqueIndex("{t}_email_key").on(t.email)')
    if changed:
        cols.append('note: text("note")')
        idx.append(f'index("{t}_note_idx").on(t.note)')
    body = ",\n  ".join(cols)
    ix = ",\n  ".join(idx)
    return f'export const {t} = pgTable("{t}", {{\n  {body},\n}}, (t) => [\n  {ix},\n]);\n'


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("out")
    ap.add_argument("--changed", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    target = a.n // 2
    with open(os.path.join(a.out, "schema.ts"), "w", encoding="utf-8") as f:
        f.write(HEAD)
        for k in range(a.n):
            f.write("\n" + table(k, a.changed and k == target))
    with open(os.path.join(a.out, "drizzle.config.ts"), "w", encoding="utf-8") as f:
        f.write('import { defineConfig } from "drizzle-kit";\n\n'
                'export default defineConfig({\n  dialect: "postgresql",\n  schema: "./schema.ts",\n'
                '  out: "./drizzle",\n});\n')


if __name__ == "__main__":
    main()
