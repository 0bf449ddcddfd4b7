-- serial columns whose table or column is renamed: the desired schema names their sequences anew; the
-- counters must be renamed (keeping their values), never created again at 1
CREATE TABLE posts (id serial PRIMARY KEY, title text);
CREATE TABLE tags (id int PRIMARY KEY, n serial);
INSERT INTO posts (title) VALUES ('a'), ('b');
INSERT INTO tags (id) VALUES (1), (2);
