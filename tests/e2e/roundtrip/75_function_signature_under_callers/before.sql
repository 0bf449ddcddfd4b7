-- functions dropped (an overload replaced, or created again for a new parameter name or result type) while a
-- default, a check, a generated column, an index, a policy or a domain calls them: the callers go first and
-- come back after the new function, bound to it
CREATE FUNCTION next_code(prefix text) RETURNS text LANGUAGE sql AS $$ SELECT prefix || '1' $$;
CREATE FUNCTION positive(int) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT $1 > 0';
CREATE FUNCTION dbl(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 * 2';
CREATE FUNCTION norm(text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT lower($1)';
CREATE FUNCTION me() RETURNS int LANGUAGE sql STABLE AS 'SELECT 1';
CREATE DOMAIN qty AS int CHECK (positive(VALUE));
CREATE TABLE items (id int PRIMARY KEY, code text DEFAULT next_code('it'), n int CHECK (positive(n)),
	twice int GENERATED ALWAYS AS (dbl(n)) STORED, email text, amount qty, owner int);
CREATE INDEX items_email_norm ON items (norm(email));
ALTER TABLE items ENABLE ROW LEVEL SECURITY;
CREATE POLICY mine ON items USING (owner = me());
INSERT INTO items (id, n, email, amount, owner) VALUES (1, 2, 'A@X', 3, 1);
