CREATE TABLE events (id int PRIMARY KEY, at timestamptz);
