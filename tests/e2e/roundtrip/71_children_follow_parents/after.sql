-- partitions and inheriting tables follow their parents: a generated column re-added over a parent's retyped
-- column (with an index on the partition's), a child's own default kept after the parent's recursing one, an
-- enum created again under a partitioned column, and a table that starts inheriting in the same change
CREATE TABLE ev (id int, at date NOT NULL, n bigint, g int GENERATED ALWAYS AS (n * 2) STORED) PARTITION BY RANGE (at);
CREATE TABLE ev1 PARTITION OF ev FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX ev1_g ON ev1 (g);
CREATE TABLE zbase (id int, n bigint DEFAULT 2);
CREATE TABLE kid (extra text) INHERITS (zbase);
ALTER TABLE kid ALTER COLUMN n SET DEFAULT 3;
CREATE TYPE st AS ENUM ('a', 'b');
CREATE TABLE sv (id int, at date NOT NULL, s st DEFAULT 'a') PARTITION BY RANGE (at);
CREATE TABLE sv1 PARTITION OF sv FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE base (id int, n bigint);
CREATE TABLE late (extra text) INHERITS (base);
