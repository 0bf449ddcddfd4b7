-- an enum loses a value (created again): a check and a partial index naming its values are made again on the
-- new type (left on the old one they would compare two types: "operator does not exist")
CREATE TYPE st AS ENUM ('a', 'b');
CREATE TABLE t (id int PRIMARY KEY, s st NOT NULL DEFAULT 'b', CONSTRAINT t_not_a CHECK (s <> 'a'));
CREATE INDEX t_b ON t (id) WHERE s = 'b';
