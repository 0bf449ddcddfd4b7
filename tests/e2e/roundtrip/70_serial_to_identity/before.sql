-- a serial column becomes an identity column: the identity continues where the serial's sequence stopped
-- (a new identity starts at 1, and the next insert would collide with the rows already there)
CREATE TABLE t (id serial PRIMARY KEY, n int);
INSERT INTO t (n) VALUES (1), (2), (3);
