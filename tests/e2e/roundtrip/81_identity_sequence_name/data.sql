SELECT pg_get_serial_sequence('products', 'id'), pg_get_serial_sequence('orders', 'id'), pg_get_serial_sequence('tickets', 'id');
INSERT INTO products (name) VALUES ('c') RETURNING id;
INSERT INTO orders (note) VALUES ('y') RETURNING id;
