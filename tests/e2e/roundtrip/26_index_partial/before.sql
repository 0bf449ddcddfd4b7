CREATE TABLE users (id int PRIMARY KEY, email text, deleted_at timestamptz);
CREATE INDEX users_email_idx ON users (email);
