CREATE TABLE users (id int PRIMARY KEY, email text, name text);
CREATE INDEX users_email_idx ON users (email) INCLUDE (name);
