-- g: columns whose type changes under unchanged generated columns and triggers that read them
CREATE TABLE g (id int PRIMARY KEY, n bigint, twice int GENERATED ALWAYS AS (n * 2) STORED, label varchar(20),
                tag text GENERATED ALWAYS AS ('#' || label) STORED);
CREATE FUNCTION g_touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER g_when BEFORE UPDATE ON g FOR EACH ROW WHEN (OLD.n IS DISTINCT FROM NEW.n) EXECUTE FUNCTION g_touch();
CREATE TRIGGER g_of BEFORE UPDATE OF label ON g FOR EACH ROW EXECUTE FUNCTION g_touch();
-- h: a generated column whose expression changes, with an index, a check and a view on it
CREATE TABLE h (id int PRIMARY KEY, n int, k int GENERATED ALWAYS AS (n * 3) STORED, CONSTRAINT h_k_positive CHECK (k >= 0));
CREATE INDEX h_k ON h (k);
CREATE VIEW h_view AS SELECT id, k FROM h;
