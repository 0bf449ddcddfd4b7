CREATE TYPE mood AS ENUM ('happy', 'unhappy');
CREATE TABLE people (id int PRIMARY KEY, m mood);
