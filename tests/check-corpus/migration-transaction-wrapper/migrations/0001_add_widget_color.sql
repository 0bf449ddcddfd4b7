BEGIN;
ALTER TABLE "widgets" ADD COLUMN "color" text;
COMMIT;