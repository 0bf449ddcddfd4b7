"""compare_snapshots.py OURS THEIRS: dbkit's drizzle snapshot against the one
drizzle-kit writes for the same schema.ts, on what drizzle-kit generate compares
(id and prevId apart; a view's columns, which its diff ignores; a foreign key's
schemaTo, which its diff reads as "public" when absent). Prints the differences;
exit 1 when there are some."""
import json
import sys


def norm(s):
    s = dict(s)
    s.pop("id", None)
    s.pop("prevId", None)
    for t in s.get("tables", {}).values():
        for fk in t.get("foreignKeys", {}).values():
            fk["schemaTo"] = fk.get("schemaTo") or "public"
    for v in s.get("views", {}).values():
        v["columns"] = {}
    return s


def diff(a, b, path, out):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a:
                out.append(f"{path}/{k}: only in drizzle-kit's: {json.dumps(b[k])}")
            elif k not in b:
                out.append(f"{path}/{k}: only in dbkit's: {json.dumps(a[k])}")
            else:
                diff(a[k], b[k], f"{path}/{k}", out)
    elif a != b:
        out.append(f"{path}: dbkit {json.dumps(a)} drizzle-kit {json.dumps(b)}")


ours, theirs = (norm(json.load(open(p))) for p in sys.argv[1:3])
out = []
diff(ours, theirs, "", out)
print("\n".join(out))
sys.exit(1 if out else 0)
