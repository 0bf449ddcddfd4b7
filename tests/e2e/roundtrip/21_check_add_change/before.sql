CREATE TABLE items (id int PRIMARY KEY, price numeric CHECK (price >= 0), qty int);
