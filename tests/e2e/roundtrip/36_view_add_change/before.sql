CREATE TABLE users (id int PRIMARY KEY, email text, active bool);
CREATE VIEW active_users AS SELECT id FROM users WHERE active;
