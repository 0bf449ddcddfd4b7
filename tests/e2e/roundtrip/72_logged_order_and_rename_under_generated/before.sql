-- unlogged tables referencing each other become logged (the referenced one first, whatever the names), and a
-- column read by a generated column is renamed (PostgreSQL rewrites the expression: the rename alone)
CREATE UNLOGGED TABLE z_parent (id int PRIMARY KEY);
CREATE UNLOGGED TABLE a_child (id int PRIMARY KEY, pid int REFERENCES z_parent (id));
CREATE TABLE t (id int PRIMARY KEY, n int, g int GENERATED ALWAYS AS (n * 2) STORED);
INSERT INTO z_parent VALUES (1);
INSERT INTO a_child VALUES (1, 1);
INSERT INTO t (id, n) VALUES (1, 5);
