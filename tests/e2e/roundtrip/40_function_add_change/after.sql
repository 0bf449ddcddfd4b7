CREATE FUNCTION add_one(a int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT a + 2 $$;
CREATE FUNCTION greet(name text) RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN 'hi ' || name; END $$;
