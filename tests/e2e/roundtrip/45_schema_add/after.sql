CREATE TABLE users (id int PRIMARY KEY);
CREATE SCHEMA billing;
CREATE TABLE billing.invoices (id int PRIMARY KEY, user_id int REFERENCES public.users(id));
