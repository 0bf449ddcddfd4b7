CREATE TABLE users (id int PRIMARY KEY, email text);
CREATE INDEX users_lower_email_idx ON users (lower(email));
