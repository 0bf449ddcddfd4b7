-- through the index
SET enable_seqscan = off;
SELECT id FROM t WHERE norm(e) = 'A';
