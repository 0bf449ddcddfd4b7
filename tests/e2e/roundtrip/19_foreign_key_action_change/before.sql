CREATE TABLE users (id int PRIMARY KEY);
CREATE TABLE posts (id int PRIMARY KEY, user_id int REFERENCES users(id) ON DELETE CASCADE);
