CREATE TABLE items (id int NOT NULL, name text);
