CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL, age int, nick text NOT NULL DEFAULT 'anon');
