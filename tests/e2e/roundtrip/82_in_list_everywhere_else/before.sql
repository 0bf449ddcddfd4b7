CREATE TABLE "t" ("id" integer PRIMARY KEY, "k" integer, "status" varchar(10));
