CREATE TABLE events (id int PRIMARY KEY, at timestamptz);
CREATE INDEX events_at_idx ON events (at);
