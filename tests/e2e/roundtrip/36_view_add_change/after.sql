CREATE TABLE users (id int PRIMARY KEY, email text, active bool);
CREATE VIEW active_users AS SELECT id, email FROM users WHERE active;
CREATE VIEW emails AS SELECT email FROM active_users;
