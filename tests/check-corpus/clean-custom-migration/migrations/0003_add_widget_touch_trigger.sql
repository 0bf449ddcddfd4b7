-- Custom SQL migration file, put your code below! --
CREATE OR REPLACE FUNCTION "public"."widgets_touch"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.name := btrim(NEW.name); -- semicolons inside the dollar-quoted body; only the marker splits
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "widgets_touch" BEFORE INSERT OR UPDATE ON "widgets" FOR EACH ROW EXECUTE FUNCTION "public"."widgets_touch"();