CREATE TABLE items (id int NOT NULL PRIMARY KEY, name text);
