-- a unique index that foreign keys stand on changes (or becomes a unique constraint): the foreign keys are dropped
-- first and added again once the new index exists; one on other columns of the same table is left alone
CREATE TABLE users (id serial PRIMARY KEY, email text, handle text);
CREATE UNIQUE INDEX users_email_idx ON users (email);
CREATE UNIQUE INDEX users_handle_idx ON users (handle);
CREATE TABLE orders (id serial PRIMARY KEY, email text REFERENCES users (email), handle text REFERENCES users (handle),
	uid int REFERENCES users (id));
INSERT INTO users (email, handle) VALUES ('a@x', 'a');
INSERT INTO orders (email, handle, uid) VALUES ('a@x', 'a', 1);
