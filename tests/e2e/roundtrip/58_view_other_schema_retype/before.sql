CREATE SCHEMA reports;
CREATE TABLE orders (id int PRIMARY KEY, total int);
CREATE VIEW reports.big_orders AS SELECT id, total FROM public.orders WHERE total > 100;
