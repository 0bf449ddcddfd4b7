CREATE TABLE "customers" (
	"id" serial PRIMARY KEY NOT NULL,
	"country" varchar(2) DEFAULT 'US' NOT NULL,
	"langs" varchar(8)[]
);
