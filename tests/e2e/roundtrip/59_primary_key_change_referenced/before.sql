CREATE TABLE users (id int PRIMARY KEY, uuid text NOT NULL UNIQUE);
CREATE TABLE posts (id int PRIMARY KEY, user_id int REFERENCES users(id));
