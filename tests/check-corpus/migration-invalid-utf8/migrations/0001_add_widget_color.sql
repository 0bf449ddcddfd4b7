ALTER TABLE "widgets" ADD COLUMN "color" text;--> statement-breakpoint
COMMENT ON COLUMN "widgets"."color" IS 'colour, see ÿ';