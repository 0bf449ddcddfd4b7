#!/usr/bin/env python3
"""Validate a META.json against the PGXN Meta Spec v1.0.0 (https://pgxn.org/spec/).

Neither Debian nor npm ships a PGXN validator (PGXN's own are a Perl module on CPAN and a Rust crate), so
this checks the spec's rules itself: the required keys, the shape and the value rules of each key
(terms, SemVer versions, version ranges, the license names, paths), no unknown keys except x_/X_ ones.
With --tree DIR it also checks what the spec leaves to the distribution: every provides.file and docfile
exists, and the versions agree with the extension's control file.

  validate_meta.py META.json [--tree DIR]     exit 0 when valid; every problem on stderr, exit 1
"""
import json
import os
import re
import sys

SEMVER = (r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
          r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
          r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?")
VERSION_RE = re.compile(r"^" + SEMVER + r"$")
RANGE_PART_RE = re.compile(r"^\s*(?:(?:[=!]=|[<>]=?)\s*)?" + SEMVER + r"\s*$")
LICENSES = {
    "agpl_3", "apache_1_1", "apache_2_0", "artistic_1", "artistic_2", "bsd", "freebsd", "gfdl_1_2", "gfdl_1_3",
    "gpl_1", "gpl_2", "gpl_3", "lgpl_2_1", "lgpl_3_0", "mit", "mozilla_1_0", "mozilla_1_1", "openssl", "perl_5",
    "postgresql", "qpl_1_0", "ssleay", "sun", "zlib", "open_source", "restricted", "unrestricted", "unknown",
}
PHASES = {"configure", "build", "test", "runtime", "develop"}
RELATIONS = {"requires", "recommends", "suggests", "conflicts"}
META_SPEC_URLS = {"https://pgxn.org/meta/spec.txt", "http://pgxn.org/meta/spec.txt"}

errors = []


def err(where, msg):
    errors.append(f"{where}: {msg}")


def custom(key):
    return re.match(r"^[xX]_.", key) is not None


def nonempty_string(v, where):
    if not isinstance(v, str) or not v:
        err(where, "must be a non-empty string")
        return False
    return True


def term(v, where):
    # two or more characters, none of them a slash, backslash, space or control character
    if not isinstance(v, str) or len(v) < 2 or any(c in "/\\" or c.isspace() or ord(c) < 32 or ord(c) == 127
                                                   for c in v):
        err(where, f"{v!r} is not a term (2+ characters, no slash, backslash, whitespace or control character)")


def version(v, where):
    if not isinstance(v, str) or not VERSION_RE.match(v):
        err(where, f"{v!r} is not a semantic version (MAJOR.MINOR.PATCH)")


def version_range(v, where):
    if v == 0 or v == "0":
        return
    if not isinstance(v, str) or not all(RANGE_PART_RE.match(p) for p in v.split(",")):
        err(where, f"{v!r} is not a version range (e.g. \"1.2.0\", \">= 1.2.0, < 2.0.0\", or 0)")


def path(v, where):
    if not isinstance(v, str) or len(v) < 2 or v.startswith("/") or "\\" in v or ".." in v.split("/"):
        err(where, f"{v!r} is not a relative Unix path inside the distribution")


def uri(v, where):
    if not isinstance(v, str) or not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$", v):
        err(where, f"{v!r} is not a URI")


def closed_object(v, where, known, required=(), any_of=()):
    if not isinstance(v, dict):
        err(where, "must be an object")
        return False
    for k in v:
        if k not in known and not custom(k):
            err(f"{where}.{k}", "unknown key (custom keys start with x_)")
    for k in required:
        if k not in v:
            err(where, f"required key {k!r} is missing")
    if any_of and not any(k in v for k in any_of):
        err(where, f"needs at least one of {', '.join(any_of)}")
    return True


def check(meta):
    if not isinstance(meta, dict):
        err("META.json", "must be a JSON object")
        return
    known = {"name", "version", "abstract", "maintainer", "license", "provides", "meta-spec", "description",
             "generated_by", "tags", "no_index", "prereqs", "release_status", "resources"}
    closed_object(meta, "META.json", known,
                  required=("name", "version", "abstract", "maintainer", "license", "provides", "meta-spec"))
    if "name" in meta:
        term(meta["name"], "name")
    if "version" in meta:
        version(meta["version"], "version")
    for k in ("abstract", "description", "generated_by"):
        if k in meta:
            nonempty_string(meta[k], k)
    m = meta.get("maintainer")
    if m is not None:
        if isinstance(m, list):
            if not m or len(set(map(str, m))) != len(m):
                err("maintainer", "a list must be non-empty and without duplicates")
            for i, x in enumerate(m):
                nonempty_string(x, f"maintainer[{i}]")
        else:
            nonempty_string(m, "maintainer")
    lic = meta.get("license")
    if lic is not None:
        if isinstance(lic, str):
            if lic not in LICENSES:
                err("license", f"{lic!r} is not one of the spec's license names")
        elif isinstance(lic, list):
            if not lic or len(set(map(str, lic))) != len(lic):
                err("license", "a list must be non-empty and without duplicates")
            for x in lic:
                if x not in LICENSES:
                    err("license", f"{x!r} is not one of the spec's license names")
        elif isinstance(lic, dict):
            if not lic:
                err("license", "an object must name at least one license")
            for k, u in lic.items():
                uri(u, f"license.{k}")
        else:
            err("license", "must be a string, a list or an object")
    ms = meta.get("meta-spec")
    if ms is not None and closed_object(ms, "meta-spec", {"version", "url"}, required=("version",)):
        if not isinstance(ms.get("version"), str) or not re.match(r"^1\.0\.\d+$", ms.get("version", "")):
            err("meta-spec.version", f"{ms.get('version')!r}: this validator knows spec 1.0.x")
        if "url" in ms and ms["url"] not in META_SPEC_URLS:
            err("meta-spec.url", f"{ms['url']!r} is not the spec's URL")
    prov = meta.get("provides")
    if prov is not None:
        if not isinstance(prov, dict) or not prov:
            err("provides", "must be an object naming at least one extension")
        else:
            for ext, e in prov.items():
                w = f"provides.{ext}"
                term(ext, w)
                if closed_object(e, w, {"file", "version", "abstract", "docfile", "docpath"},
                                 required=("file", "version")):
                    if "file" in e:
                        path(e["file"], w + ".file")
                    if "docfile" in e:
                        path(e["docfile"], w + ".docfile")
                    if "version" in e:
                        version(e["version"], w + ".version")
                    for k in ("abstract", "docpath"):
                        if k in e:
                            nonempty_string(e[k], f"{w}.{k}")
    tags = meta.get("tags")
    if tags is not None:
        if not isinstance(tags, list) or not tags or len(set(map(str, tags))) != len(tags):
            err("tags", "must be a non-empty list without duplicates")
        else:
            for i, t in enumerate(tags):
                if (not isinstance(t, str) or not 2 <= len(t) <= 255 or
                        any(c in "/\\" or ord(c) < 32 or ord(c) == 127 for c in t)):
                    err(f"tags[{i}]", f"{t!r}: 2 to 255 characters, no slash, backslash or control character")
    if "release_status" in meta and meta["release_status"] not in ("stable", "testing", "unstable"):
        err("release_status", f"{meta['release_status']!r} is not stable, testing or unstable")
    ni = meta.get("no_index")
    if ni is not None and closed_object(ni, "no_index", {"file", "directory"}, any_of=("file", "directory")):
        for k in ("file", "directory"):
            if k in ni:
                items = ni[k] if isinstance(ni[k], list) else [ni[k]]
                if isinstance(ni[k], list) and (not items or len(set(map(str, items))) != len(items)):
                    err(f"no_index.{k}", "a list must be non-empty and without duplicates")
                for x in items:
                    path(x, f"no_index.{k}")
    pr = meta.get("prereqs")
    if pr is not None and closed_object(pr, "prereqs", PHASES, any_of=sorted(PHASES)):
        for phase, rels in pr.items():
            if custom(phase):
                continue
            w = f"prereqs.{phase}"
            if closed_object(rels, w, RELATIONS, any_of=sorted(RELATIONS)):
                for rel, deps in rels.items():
                    if custom(rel):
                        continue
                    if not isinstance(deps, dict) or not deps:
                        err(f"{w}.{rel}", "must be an object naming at least one prerequisite")
                        continue
                    for dep, rng in deps.items():
                        term(dep, f"{w}.{rel}")
                        version_range(rng, f"{w}.{rel}.{dep}")
    res = meta.get("resources")
    if res is not None and closed_object(res, "resources", {"homepage", "bugtracker", "repository"},
                                         any_of=("homepage", "bugtracker", "repository")):
        if "homepage" in res:
            uri(res["homepage"], "resources.homepage")
        bt = res.get("bugtracker")
        if bt is not None and closed_object(bt, "resources.bugtracker", {"web", "mailto"}, any_of=("web", "mailto")):
            if "web" in bt:
                uri(bt["web"], "resources.bugtracker.web")
            if "mailto" in bt and (not isinstance(bt["mailto"], str) or "@" not in bt["mailto"]):
                err("resources.bugtracker.mailto", f"{bt['mailto']!r} is not an email address")
        rp = res.get("repository")
        if rp is not None and closed_object(rp, "resources.repository", {"url", "web", "type"},
                                            any_of=("url", "web")):
            for k in ("url", "web"):
                if k in rp:
                    uri(rp[k], f"resources.repository.{k}")
            if "type" in rp and (not isinstance(rp["type"], str) or not re.match(r"^[a-z]+$", rp["type"])):
                err("resources.repository.type", f"{rp['type']!r} must be lowercase letters (git, svn, ...)")


def check_tree(meta, tree):
    """What the spec leaves to the distribution: the files exist, the versions agree with the control files."""
    for ext, e in (meta.get("provides") or {}).items():
        if not isinstance(e, dict):
            continue
        for k in ("file", "docfile"):
            if isinstance(e.get(k), str) and not os.path.isfile(os.path.join(tree, e[k])):
                err(f"provides.{ext}.{k}", f"{e[k]} does not exist in {tree}")
        control = os.path.join(tree, f"{ext}.control")
        if os.path.isfile(control):
            m = re.search(r"^\s*default_version\s*=\s*'([^']*)'", open(control, encoding="utf-8").read(), re.M)
            if not m:
                err(f"{ext}.control", "has no default_version")
            elif m.group(1) != e.get("version"):
                err(f"provides.{ext}.version", f"{e.get('version')!r} but {ext}.control says default_version "
                    f"'{m.group(1)}': move both together")
            else:
                base = os.path.join(tree, "sql")
                # the default version must be installable: a script for it, or a chain from a full script
                scripts = os.listdir(base) if os.path.isdir(base) else []
                if not any(s == f"{ext}--{m.group(1)}.sql" or s.endswith(f"--{m.group(1)}.sql") for s in scripts):
                    err(f"{ext}.control", f"no sql/{ext}--*{m.group(1)}.sql installs default_version {m.group(1)}")


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    tree = None
    if "--tree" in argv:
        tree = argv[argv.index("--tree") + 1]
    try:
        with open(argv[1], encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError) as e:
        print(f"{argv[1]}: cannot read it as JSON: {e}", file=sys.stderr)
        return 1
    check(meta)
    if tree and not errors:
        check_tree(meta, tree)
    if errors:
        for e in errors:
            print(f"{argv[1]}: {e}", file=sys.stderr)
        print(f"{argv[1]}: {len(errors)} problem(s) against the PGXN Meta Spec 1.0.0", file=sys.stderr)
        return 1
    print(f"{argv[1]}: valid PGXN META.json ({meta['name']} {meta['version']})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
