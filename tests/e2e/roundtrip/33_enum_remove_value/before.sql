CREATE TYPE mood AS ENUM ('happy', 'meh', 'sad');
CREATE TABLE people (id int PRIMARY KEY, m mood DEFAULT 'happy');
INSERT INTO people VALUES (1, 'sad');
