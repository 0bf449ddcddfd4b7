ALTER TABLE "widgets" ADD COLUMN "color" text;--> statement-breakpoint
COMMIT;--> statement-breakpoint
UPDATE "widgets" SET "color" = 'red';