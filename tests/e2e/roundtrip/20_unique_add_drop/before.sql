CREATE TABLE users (id int PRIMARY KEY, email text, handle text UNIQUE);
