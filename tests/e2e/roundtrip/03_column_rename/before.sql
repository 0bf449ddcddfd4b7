CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL, bio text);
INSERT INTO users VALUES (1, 'a@x', 'hello');
