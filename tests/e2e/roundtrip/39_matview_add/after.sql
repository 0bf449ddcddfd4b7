CREATE TABLE sales (id int PRIMARY KEY, amount int);
CREATE MATERIALIZED VIEW totals AS SELECT count(*) AS n, sum(amount) AS total FROM sales WITH NO DATA;
