CREATE TABLE items (id int PRIMARY KEY, code text);
INSERT INTO items VALUES (1, '42'), (2, NULL);
