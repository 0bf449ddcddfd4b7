-- the rows kept; g was not computed again (still its column, in place)
SELECT pid FROM a_child;
SELECT id, qty, g FROM t;
