CREATE TABLE users (id int PRIMARY KEY, email text);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
