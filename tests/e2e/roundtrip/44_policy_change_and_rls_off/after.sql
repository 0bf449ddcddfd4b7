CREATE TABLE docs (id int PRIMARY KEY, owner_name text);
ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
CREATE POLICY docs_own ON docs FOR ALL USING (owner_name = current_user) WITH CHECK (owner_name = current_user);
CREATE TABLE notes (id int PRIMARY KEY);
