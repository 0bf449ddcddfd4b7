CREATE TABLE users (id int NOT NULL UNIQUE, uuid text PRIMARY KEY);
CREATE TABLE posts (id int PRIMARY KEY, user_id int REFERENCES users(id), user_uuid text REFERENCES users(uuid) ON DELETE CASCADE);
