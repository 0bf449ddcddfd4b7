CREATE TABLE users (id int PRIMARY KEY);
CREATE TABLE logs (id bigint, kind text NOT NULL, msg text) PARTITION BY LIST (kind);
CREATE TABLE logs_info PARTITION OF logs FOR VALUES IN ('info');
CREATE TABLE logs_other PARTITION OF logs DEFAULT;
CREATE INDEX logs_kind_idx ON logs (kind);
