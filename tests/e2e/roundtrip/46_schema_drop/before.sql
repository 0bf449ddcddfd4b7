CREATE SCHEMA legacy;
CREATE TABLE legacy.old (id int PRIMARY KEY);
CREATE TABLE users (id int PRIMARY KEY);
