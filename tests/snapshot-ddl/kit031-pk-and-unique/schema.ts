import { pgTable, serial, text } from "drizzle-orm/pg-core";
export const bannedUsers = pgTable("BannedUsers", {
  id: serial("id").primaryKey().unique(),
  userId: text("userId").notNull().unique(),
  note: text("note"),
});
