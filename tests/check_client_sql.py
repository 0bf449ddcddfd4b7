#!/usr/bin/env python3
"""The client's SQL runs with the caller's search_path, as whoever deploys (often a
superuser), in a database where others may own objects in public. So every operator
in a query it sends is OPERATOR(pg_catalog.x), every function pg_catalog- or
extension-qualified (s.fn(...): a {} placeholder here), every cast to a pg_catalog
type. A bare `=` let a role with CREATE on public run code as the deployer (CI's
e2e_privileges caught it; this finds it in a second, from the source).

Reads the string literals of client/**/*.cpp (adjacent ones joined), keeps those that
look like a query, and lists what is not qualified. Exit 1 if any."""
import glob
import re
import sys

# words followed by "(" that are SQL syntax, not function calls
SYNTAX = {
    'IN', 'EXISTS', 'ANY', 'ALL', 'ARRAY', 'VALUES', 'COALESCE', 'CASE', 'CAST', 'OPERATOR', 'NULLIF', 'GREATEST',
    'LEAST', 'ROW', 'OVER', 'FILTER', 'AS', 'ON', 'USING', 'AND', 'OR', 'NOT', 'WHERE', 'SELECT', 'FROM', 'JOIN',
    'INTO', 'SET', 'LIMIT', 'BY', 'WHEN', 'THEN', 'ELSE', 'IS', 'MATERIALIZED', 'LATERAL', 'TABLE', 'CALL',
    'RETURNING', 'CONFLICT', 'DO', 'EXTRACT', 'POSITION', 'SUBSTRING', 'TRIM', 'OVERLAY', 'ORDINALITY', 'X',
}
LITERAL = re.compile(r'R"(\w*)\((.*?)\)\1"|"((?:[^"\\\n]|\\.)*)"', re.S)
QUERY = re.compile(r'\b(SELECT|CALL|INSERT INTO|UPDATE|DELETE FROM)\b')
SQL_TEXT = re.compile(r"'(?:[^']|'')*'")


def strings(src):
    """(line, text) of each run of adjacent string literals."""
    out, cur, end = [], None, 0
    for m in LITERAL.finditer(src):
        text = m.group(2) if m.group(2) is not None else m.group(3)
        if cur is not None and src[end:m.start()].strip() == '':
            cur[1] += text
        else:
            if cur:
                out.append(cur)
            cur = [src.count('\n', 0, m.start()) + 1, text]
        end = m.end()
    if cur:
        out.append(cur)
    return out


def unqualified(sql):
    t = SQL_TEXT.sub("''", sql)
    found = [f'type {m.group(1)}' for m in re.finditer(r'::\s*(?!pg_catalog\.)([A-Za-z_]\w*)', t)]
    t = re.sub(r'OPERATOR\(pg_catalog\.[^)]*\)', ' ', t)
    t = re.sub(r'\{[^}]*\}', 'X', t)  # fmt placeholders: s.fn(...), qualified
    t = re.sub(r'::[\w."]+(\[\])?', '', t)
    t = re.sub(r'ORDINALITY\s+\w+\s*\(', 'ORDINALITY (', t)  # a column alias list
    found += [f'operator {m.group(1)}'
              for m in re.finditer(r'(?<![<>!=~|:])(=|<>|!=|<=|>=|<|>|\|\||~~?\*?|!~|@>|<@|\?)(?![=>~|])', t)]
    found += [f'function {m.group(1)}' for m in re.finditer(r'(?<![\w.])([A-Za-z_]\w*)\s*\(', t)
              if m.group(1).upper() not in SYNTAX]
    # syntax that looks its operator up on the search_path: x IN (...) is =, LIKE is ~~, ...
    found += [f'implicit operator ({m.group(0).strip()})' for m in re.finditer(
        r'\bIN\s*\(|\b(I?LIKE|BETWEEN|SIMILAR TO)\b|\bIS\s+(NOT\s+)?DISTINCT\s+FROM\b|\bNULLIF\s*\(|\bCASE\s+(?!WHEN\b)\S',
        t, re.I)]
    return sorted(set(found))


# A query assembled from pieces (the studio's keyset paging): an operator between
# placeholders, as in "{} > {}".
PIECE = re.compile(r'\{[^}]*\}\s+(=|<>|!=|<=|>=|<|>)\s+\{')


def main(root):
    bad = 0
    for path in sorted(glob.glob(f'{root}/client/**/*.cpp', recursive=True)):
        for line, text in strings(open(path, encoding='utf-8').read()):
            if PIECE.search(text):
                bad += 1
                print(f'{path[len(root) + 1:]}:{line}: a bare operator in a piece of a query: {text[:160]}')
                continue
            if not QUERY.search(text) or not re.search(r'\bFROM\b|\bCALL\b|pg_catalog|\$1', text):
                continue  # a message, not a query
            if what := unqualified(text):
                bad += 1
                print(f'{path[len(root) + 1:]}:{line}: not qualified: {", ".join(what)}\n    {text[:160]}')
    print(f'check_client_sql: {bad} queries with unqualified operators, functions or types' if bad else
          'check_client_sql: every operator, function and cast in the client\'s queries is qualified')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1].rstrip('/')))
