-- an enum created again (it loses a value) while a generated column reads a column of it, and an index stands on
-- that generated column: the generated column goes first and comes back over the new type
CREATE TYPE status AS ENUM ('draft', 'live', 'gone');
CREATE TABLE docs (id int PRIMARY KEY, st status NOT NULL DEFAULT 'draft',
	is_live boolean GENERATED ALWAYS AS (st = 'live') STORED);
CREATE INDEX docs_live ON docs (is_live);
INSERT INTO docs (id, st) VALUES (1, 'live'), (2, 'draft');
