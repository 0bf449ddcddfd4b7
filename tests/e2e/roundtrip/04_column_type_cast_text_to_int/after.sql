CREATE TABLE items (id int PRIMARY KEY, code integer);
