-- drizzle: generatedAlwaysAsIdentity({ name: "products_id_sequence", startWith: 10 }) writes
-- GENERATED ALWAYS AS IDENTITY (sequence name "products_id_sequence" ...): the name is the schema's too
CREATE TABLE "products" ("id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY, "name" text);
INSERT INTO "products" ("name") VALUES ('a'), ('b');
CREATE TABLE "orders" ("id" serial PRIMARY KEY, "note" text);
INSERT INTO "orders" ("note") VALUES ('x');
