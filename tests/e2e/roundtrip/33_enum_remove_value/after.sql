CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE TABLE people (id int PRIMARY KEY, m mood DEFAULT 'happy');
