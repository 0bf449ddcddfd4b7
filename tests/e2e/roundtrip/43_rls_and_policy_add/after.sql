CREATE TABLE docs (id int PRIMARY KEY, owner_name text);
ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
ALTER TABLE docs FORCE ROW LEVEL SECURITY;
CREATE POLICY docs_own ON docs FOR SELECT TO public USING (owner_name = current_user);
