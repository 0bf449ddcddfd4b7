CREATE TABLE users (id int PRIMARY KEY, email text);
COMMENT ON TABLE users IS 'people who sign in';
COMMENT ON COLUMN users.email IS 'lower case';
