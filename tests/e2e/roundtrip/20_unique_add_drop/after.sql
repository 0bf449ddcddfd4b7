CREATE TABLE users (id int PRIMARY KEY, email text UNIQUE, handle text);
