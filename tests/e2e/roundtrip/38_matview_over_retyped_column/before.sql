CREATE TABLE sales (id int PRIMARY KEY, amount int);
CREATE MATERIALIZED VIEW totals AS SELECT sum(amount) AS total FROM sales;
CREATE UNIQUE INDEX totals_total_idx ON totals (total);
CREATE VIEW big_totals AS SELECT total FROM totals WHERE total > 100;
