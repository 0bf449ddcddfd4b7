CREATE TABLE items (id int NOT NULL, code text PRIMARY KEY);
