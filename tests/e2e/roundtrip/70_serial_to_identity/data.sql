-- the next value follows the rows already there
INSERT INTO t (n) VALUES (4) RETURNING id;
