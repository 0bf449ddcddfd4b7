-- the row kept its values, the default calls the new function
SELECT n, twice, email FROM items WHERE id = 1;
INSERT INTO items (id, n, email, amount, owner) VALUES (2, 5, 'b@x', 1, 1) RETURNING code, twice;
