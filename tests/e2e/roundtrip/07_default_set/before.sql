CREATE TABLE items (id int PRIMARY KEY, status text, at timestamptz);
