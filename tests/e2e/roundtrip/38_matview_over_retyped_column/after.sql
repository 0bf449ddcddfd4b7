CREATE TABLE sales (id int PRIMARY KEY, amount numeric(12,2));
CREATE MATERIALIZED VIEW totals AS SELECT sum(amount) AS total FROM sales;
CREATE UNIQUE INDEX totals_total_idx ON totals (total);
CREATE VIEW big_totals AS SELECT total FROM totals WHERE total > 100;
