-- the row kept, read through the partial index made again on the new type
SET enable_seqscan = off;
SELECT id FROM t WHERE s = 'b';
