-- the generated columns computed again from the kept data; the view reads the new expression
SELECT id, n, twice, label, tag FROM g ORDER BY id;
SELECT * FROM h_view;
