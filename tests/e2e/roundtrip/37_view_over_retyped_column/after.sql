CREATE TABLE users (id int PRIMARY KEY, age bigint);
CREATE VIEW adults AS SELECT id, age FROM users WHERE age >= 18;
CREATE VIEW adult_ids AS SELECT id FROM adults;
