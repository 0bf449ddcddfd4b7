-- the rows kept; the child keeps its own default
SELECT n, g FROM ev1;
SELECT n FROM kid;
INSERT INTO kid (id) VALUES (2) RETURNING n;
SELECT s FROM sv1;
