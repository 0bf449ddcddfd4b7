-- drizzle: check("customers_country_check", sql`${t.country} IN ('US','CA','DE','FR')`), and the same
-- IN (...) on a varchar column in a partial index, a view and a policy: PostgreSQL prints each as one
-- cast of an array, which parses back into a cast per element
CREATE TABLE "customers" (
	"id" serial PRIMARY KEY NOT NULL,
	"country" varchar(2) DEFAULT 'US' NOT NULL,
	"langs" varchar(8)[] DEFAULT ARRAY['en']::varchar[],
	CONSTRAINT "customers_country_check" CHECK ("customers"."country" IN ('US', 'CA', 'DE', 'FR'))
);
ALTER TABLE "customers" ENABLE ROW LEVEL SECURITY;
CREATE INDEX "customers_eu_idx" ON "customers" USING btree ("id") WHERE "customers"."country" IN ('DE', 'FR');
CREATE VIEW "eu_customers" AS SELECT "id", "country" FROM "customers" WHERE "country" IN ('DE', 'FR');
CREATE POLICY "eu_only" ON "customers" AS PERMISSIVE FOR SELECT TO public USING ("country" IN ('DE', 'FR'));
