-- an IMMUTABLE function used by an expression index gets a new body: the index is rebuilt, or lookups
-- through it would miss rows (its entries were computed by the old body)
CREATE FUNCTION norm(text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT lower($1)';
CREATE TABLE t (id int PRIMARY KEY, e text);
CREATE INDEX t_norm ON t (norm(e));
INSERT INTO t VALUES (1, 'a'), (2, 'B');
