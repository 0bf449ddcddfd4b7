CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE TABLE people (id int PRIMARY KEY, m mood);
INSERT INTO people VALUES (1, 'sad');
