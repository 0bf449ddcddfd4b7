CREATE TABLE items (id int PRIMARY KEY, status text DEFAULT 'new', at timestamptz DEFAULT now());
