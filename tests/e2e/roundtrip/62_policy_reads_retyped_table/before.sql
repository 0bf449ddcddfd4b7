-- a policy of docs reads users.id through a subquery: PostgreSQL refuses users.id's type change under it
CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE docs (id int PRIMARY KEY, owner_id int NOT NULL, body text);
ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
CREATE POLICY docs_owner ON docs USING (owner_id IN (SELECT users.id FROM users WHERE users.name = CURRENT_USER));
INSERT INTO users VALUES (1, 'a');
INSERT INTO docs VALUES (1, 1, 'x');
