-- columns of a partitioned table and of an inheritance parent change type: the ALTER recurses to the children (PostgreSQL refuses it on an inherited column)
CREATE TABLE ev (id int, at date NOT NULL, v bigint DEFAULT 6 CHECK (v > 0), s text DEFAULT 'x') PARTITION BY RANGE (at);
CREATE TABLE ev_2026 PARTITION OF ev FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE VIEW ev_view AS SELECT v, s FROM ev_2026;
CREATE TABLE base (id int, n bigint DEFAULT 1);
CREATE TABLE kid (extra text) INHERITS (base);
