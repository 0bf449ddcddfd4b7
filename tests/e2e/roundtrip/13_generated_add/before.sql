CREATE TABLE people (id int PRIMARY KEY, first text, last text);
INSERT INTO people VALUES (1, 'Ada', 'Lovelace');
