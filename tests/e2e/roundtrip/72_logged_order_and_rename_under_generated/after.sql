-- unlogged tables referencing each other become logged (the referenced one first, whatever the names), and a
-- column read by a generated column is renamed (PostgreSQL rewrites the expression: the rename alone)
CREATE TABLE z_parent (id int PRIMARY KEY);
CREATE TABLE a_child (id int PRIMARY KEY, pid int REFERENCES z_parent (id));
CREATE TABLE t (id int PRIMARY KEY, qty int, g int GENERATED ALWAYS AS (qty * 2) STORED);
