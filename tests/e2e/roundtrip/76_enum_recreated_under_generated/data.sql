-- the generated values are computed again over the new type
SELECT id, st, is_live FROM docs ORDER BY id;
