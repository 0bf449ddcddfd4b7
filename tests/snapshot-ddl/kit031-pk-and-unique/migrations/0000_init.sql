CREATE TABLE "BannedUsers" (
	"id" serial PRIMARY KEY NOT NULL,
	"userId" text NOT NULL,
	"note" text,
	CONSTRAINT "BannedUsers_userId_unique" UNIQUE("userId")
);
