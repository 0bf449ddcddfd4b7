CREATE TABLE items (id int PRIMARY KEY, qty bigint NOT NULL DEFAULT 0);
