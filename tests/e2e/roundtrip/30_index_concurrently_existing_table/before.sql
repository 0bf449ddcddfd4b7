CREATE TABLE orders (id int PRIMARY KEY, customer int, total numeric);
INSERT INTO orders SELECT g, g % 10, g FROM generate_series(1, 100) g;
