CREATE TABLE sales (id int PRIMARY KEY, amount int);
