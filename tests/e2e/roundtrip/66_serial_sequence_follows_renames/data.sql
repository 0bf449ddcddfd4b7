-- the next values follow the rows already there
INSERT INTO articles (title) VALUES ('c') RETURNING id;
INSERT INTO tags (id) VALUES (3) RETURNING num;
