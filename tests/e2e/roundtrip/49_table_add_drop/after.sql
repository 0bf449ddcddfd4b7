CREATE TABLE keep (id int PRIMARY KEY);
CREATE TABLE fresh (id int PRIMARY KEY, keep_id int REFERENCES keep(id));
