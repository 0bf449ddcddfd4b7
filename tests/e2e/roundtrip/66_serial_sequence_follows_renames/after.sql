-- serial columns whose table or column is renamed: the desired schema names their sequences anew; the
-- counters must be renamed (keeping their values), never created again at 1
CREATE TABLE articles (id serial PRIMARY KEY, title text);
CREATE TABLE tags (id int PRIMARY KEY, num serial);
