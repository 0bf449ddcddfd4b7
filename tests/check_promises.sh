#!/usr/bin/env bash
# Fails when a `##`/`###` section of README.md has no heading in tests/README-promises.md,
# when a heading there has no entry ("- ..."), or when an entry names a path (in
# backticks, starting with tests/, regress/, scripts/, CMakeLists.txt) that does not exist,
# or a case (`case X`, `cases X, Y`: a case_begin name, test name or heading) that none of
# the entry's files holds.
# Usage: tests/check_promises.sh [SOURCE_ROOT]
set -euo pipefail
src=${1:-$(cd "$(dirname "$0")/.." && pwd)}
readme=$src/README.md map=$src/tests/README-promises.md
[[ -f $map ]] || { echo "check_promises: $map is missing" >&2; exit 1; }
python3 - "$readme" "$map" "$src" <<'PY'
import os, re, sys
readme, mapf, src = sys.argv[1:4]
def headings(path):
    out, fence = [], False
    for line in open(path, encoding="utf-8"):
        if line.startswith("```"):
            fence = not fence
        elif not fence and re.match(r"^#{2,3} ", line):
            out.append(line.rstrip("\n"))
    return out
bad = []
want = headings(readme)
text = open(mapf, encoding="utf-8").read()
sections = {}
cur = None
for line in text.splitlines():
    if re.match(r"^#{2,3} ", line):
        cur = line
        sections[cur] = []
    elif cur is not None and line.startswith("- "):
        sections[cur].append(line)
    elif cur is not None and sections[cur] and line.startswith("  "):
        sections[cur][-1] += " " + line.strip()
for h in want:
    if h not in sections:
        bad.append(f"README.md section [{h}] has no heading in tests/README-promises.md")
    elif not sections[h]:
        bad.append(f"[{h}] in tests/README-promises.md lists no test")
for h, entries in sections.items():
    if h not in want:
        bad.append(f"tests/README-promises.md has [{h}], which is not a README.md section (renamed?)")
    for e in entries:
        paths = re.findall(r"`((?:tests|regress|scripts)/[^`\s]+|CMakeLists\.txt)`", e)
        for p in paths:
            if not os.path.exists(os.path.join(src, p)):
                bad.append(f"[{h}]: {p} does not exist")
        # `case X` / `cases X, Y, ...`: each name must stand in one of the entry's files
        texts = [open(os.path.join(src, p), encoding="utf-8", errors="replace").read()
                 for p in paths if os.path.isfile(os.path.join(src, p))]
        for m in re.finditer(r"\bcases? ((?:`[^`]+`(?:,\s*|\s+and\s+)?)+)", e):
            for name in re.findall(r"`([^`]+)`", m.group(1)):
                if name in paths:
                    continue  # a file named after the case list, not a case
                stem = name.split("...")[0].replace("NAME", "").strip()
                if texts and stem and not any(stem in t for t in texts):
                    bad.append(f"[{h}]: case `{name}` is in none of {', '.join(paths)}")
for b in bad:
    print("check_promises: " + b, file=sys.stderr)
if bad:
    sys.exit(1)
print(f"check_promises: {len(want)} README sections, each mapped to its tests")
PY
