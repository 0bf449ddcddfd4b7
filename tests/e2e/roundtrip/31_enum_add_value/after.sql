CREATE TYPE mood AS ENUM ('ecstatic', 'happy', 'meh', 'sad');
CREATE TABLE people (id int PRIMARY KEY, m mood DEFAULT 'meh');
