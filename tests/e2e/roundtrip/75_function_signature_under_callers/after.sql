-- functions dropped (an overload replaced, or created again for a new parameter name or result type) while a
-- default, a check, a generated column, an index, a policy or a domain calls them: the callers go first and
-- come back after the new function, bound to it
CREATE FUNCTION next_code(prefix text, width int DEFAULT 4) RETURNS text LANGUAGE sql AS $$ SELECT prefix || lpad('1', width, '0') $$;
CREATE FUNCTION positive(x int) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT x > 0';
CREATE FUNCTION dbl(x int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT x * 2';
CREATE FUNCTION norm(s text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT lower(s)';
CREATE FUNCTION me() RETURNS bigint LANGUAGE sql STABLE AS 'SELECT 1::bigint';
CREATE DOMAIN qty AS int CHECK (positive(VALUE));
CREATE TABLE items (id int PRIMARY KEY, code text DEFAULT next_code('it'), n int CHECK (positive(n)),
	twice int GENERATED ALWAYS AS (dbl(n)) STORED, email text, amount qty, owner int);
CREATE INDEX items_email_norm ON items (norm(email));
ALTER TABLE items ENABLE ROW LEVEL SECURITY;
CREATE POLICY mine ON items USING (owner = me());
