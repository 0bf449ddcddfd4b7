CREATE TABLE t (id int PRIMARY KEY, n bigserial);
