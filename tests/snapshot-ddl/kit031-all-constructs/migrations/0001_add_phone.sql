ALTER TABLE "accounts" ADD COLUMN "phone" varchar(32);--> statement-breakpoint
CREATE INDEX "invoices_note_idx" ON "billing"."invoices" USING btree ("note" NULLS FIRST,"currency" DESC NULLS LAST);