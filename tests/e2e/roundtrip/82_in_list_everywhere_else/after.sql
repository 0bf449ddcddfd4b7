-- the IN list on a varchar column of 80_in_list_on_varchar, wherever else PostgreSQL prints it in a form that
-- parses back differently: a domain's check, a trigger's WHEN, a materialized view, an exclusion constraint's
-- WHERE, a generated column, a partitioned table's check and partial index, an inherited check
CREATE TABLE "t" ("id" integer PRIMARY KEY, "k" integer, "status" varchar(10));
CREATE DOMAIN "st" AS varchar(10) CHECK (VALUE IN ('x', 'y'));
CREATE FUNCTION trg() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER "t_trg" BEFORE INSERT ON "t" FOR EACH ROW WHEN (NEW."status" IN ('a', 'b')) EXECUTE FUNCTION trg();
CREATE MATERIALIZED VIEW "mv" AS SELECT "id" FROM "t" WHERE "status" IN ('a', 'b');
ALTER TABLE "t" ADD CONSTRAINT "t_k_excl" EXCLUDE USING btree ("k" WITH =) WHERE ("status" IN ('a', 'b'));
CREATE TABLE "u" ("id" integer, "s" varchar(10), "g" boolean GENERATED ALWAYS AS ("s" IN ('a', 'b')) STORED);
CREATE TABLE "p" ("id" integer NOT NULL, "st" varchar(10) NOT NULL, CONSTRAINT "p_st_check" CHECK ("st" IN ('a', 'b'))) PARTITION BY LIST ("id");
CREATE TABLE "p1" PARTITION OF "p" FOR VALUES IN (1);
CREATE INDEX "p_idx" ON "p" ("id") WHERE "st" IN ('a', 'b');
CREATE TABLE "par" ("id" integer, "s" varchar(5), CONSTRAINT "par_s_check" CHECK ("s" IN ('q', 'r')));
CREATE TABLE "chi" ("extra" integer) INHERITS ("par");
