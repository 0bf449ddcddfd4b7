CREATE TABLE accounts (id int PRIMARY KEY, code text NOT NULL);
CREATE TABLE payments (id int PRIMARY KEY, account_code text);
INSERT INTO accounts VALUES (1, 'A1');
INSERT INTO payments VALUES (1, 'A1');
