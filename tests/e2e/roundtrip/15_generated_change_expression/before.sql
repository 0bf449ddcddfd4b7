CREATE TABLE people (id int PRIMARY KEY, first text, up text GENERATED ALWAYS AS (upper(first)) STORED);
