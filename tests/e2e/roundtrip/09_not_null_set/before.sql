CREATE TABLE items (id int PRIMARY KEY, name text);
INSERT INTO items VALUES (1, 'x');
