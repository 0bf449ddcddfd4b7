#!/usr/bin/env python3
"""Compares two dbkit.snapshot() documents: MIGRATIONS (the folder applied) and
SNAPSHOT (snapshot_to_ddl's DDL applied). Owners and privileges are left out (the
schema engine compares them apart), and comments (a drizzle snapshot cannot declare
them; the engine takes the migrations' comments for the snapshot's side). Prints one sorted line per difference:
  only-in-migrations KEY | only-in-snapshot KEY | differs KEY ATTR
Column order ("position") is printed apart, as `position KEY m->s`: drizzle-kit's
ALTER TABLE ... ADD COLUMN appends a column while the snapshot lists columns in
schema.ts order, so order differs by design wherever a column was added later."""
import json
import sys

IGNORED = {"owner", "acl", "comment"}


def load(path):
    with open(path) as f:
        doc = json.load(f)
    out = {}
    for key, value in doc.items():
        if key == "dbkit:format":
            continue
        if isinstance(value, dict):
            value = {k: v for k, v in value.items() if k not in IGNORED}
        out[key] = value
    return out


def main():
    a, b = load(sys.argv[1]), load(sys.argv[2])
    lines, positions = [], []
    for key in sorted(set(a) | set(b)):
        if key not in b:
            lines.append(f"only-in-migrations {key}")
        elif key not in a:
            lines.append(f"only-in-snapshot {key}")
        elif a[key] != b[key]:
            va, vb = a[key], b[key]
            if isinstance(va, dict) and isinstance(vb, dict):
                for attr in sorted(set(va) | set(vb)):
                    if va.get(attr) == vb.get(attr):
                        continue
                    if attr == "position":
                        positions.append(f"position {key} {va.get(attr)}->{vb.get(attr)}")
                    else:
                        lines.append(f"differs {key} {attr}: {json.dumps(va.get(attr))} vs {json.dumps(vb.get(attr))}")
            else:
                lines.append(f"differs {key}: {json.dumps(va)} vs {json.dumps(vb)}")
    print("\n".join(lines + positions))


main()
