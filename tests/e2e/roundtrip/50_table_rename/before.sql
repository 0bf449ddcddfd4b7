CREATE TABLE posts (id int PRIMARY KEY, title text);
INSERT INTO posts VALUES (1, 't');
