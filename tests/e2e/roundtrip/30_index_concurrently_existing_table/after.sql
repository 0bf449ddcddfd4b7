CREATE TABLE orders (id int PRIMARY KEY, customer int, total numeric, note text);
CREATE INDEX orders_customer_idx ON orders (customer);
