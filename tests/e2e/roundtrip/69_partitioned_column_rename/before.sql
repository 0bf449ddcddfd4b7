-- a column of a partitioned table and of an inheritance parent renamed: PostgreSQL renames the children's too,
-- so one --rename of the parent's column is the whole change (a --rename of a child's column as well is accepted)
CREATE TABLE m (id int, at date NOT NULL, n int) PARTITION BY RANGE (at);
CREATE TABLE m1 PARTITION OF m FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE b (id int, n int);
CREATE TABLE k (extra text) INHERITS (b);
INSERT INTO m VALUES (1, '2026-05-01', 7);
INSERT INTO k VALUES (2, 8, 'x');
