// tests/e2e/test_generate_drizzle_snapshot.sh: the schema after the change: users gains a column and an index on it.
import { sql } from "drizzle-orm";
import {
  boolean, char, check, index, integer, jsonb, numeric, pgEnum, pgMaterializedView, pgTable, pgView, primaryKey, serial, text,
  timestamp, unique, uuid, varchar,
} from "drizzle-orm/pg-core";

export const postStatus = pgEnum("post_status", ["draft", "published", "archived"]);

export const users = pgTable("users", {
  id: serial("id").primaryKey(),
  email: varchar("email", { length: 255 }).notNull().unique(),
  name: text("name"),
  bio: text("bio"),
  age: integer("age"),
  active: boolean("active").notNull().default(true),
  score: integer("score").notNull().default(0),
  balance: numeric("balance", { precision: 10, scale: 2 }).default("0.00"),
  settings: jsonb("settings").default({}),
  roles: text("roles").array().notNull().default(["read"]),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
}, (t) => [
  check("users_age_check", sql`${t.age} >= 0`),
  index("users_name_idx").on(t.name).with({ fillfactor: 70 }),
  index("users_bio_idx").on(t.bio),
]);

export const posts = pgTable("posts", {
  id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
  authorId: integer("author_id").notNull().references(() => users.id, { onDelete: "cascade" }),
  title: text("title").notNull(),
  status: postStatus("status").notNull().default("draft"),
  publicId: uuid("public_id").notNull().defaultRandom(),
  deletedAt: timestamp("deleted_at"),
  createdAt: timestamp("created_at").notNull().defaultNow(),
}, (t) => [
  index("posts_created_idx").on(t.createdAt.desc()),
  index("posts_live_idx").on(t.authorId).where(sql`${t.deletedAt} is null`),
  unique("posts_author_title_unique").on(t.authorId, t.title),
]);

export const postTags = pgTable("post_tags", {
  postId: integer("post_id").notNull().references(() => posts.id),
  tag: text("tag").notNull(),
}, (t) => [primaryKey({ columns: [t.postId, t.tag] })]);

export const activeUsers = pgView("active_users").as((qb) =>
  qb.select({ id: users.id, email: users.email }).from(users).where(sql`${users.active} = true`));

// names over 63 bytes (drizzle's foreign key name is table_column_othertable_othercolumn_fk):
// PostgreSQL keeps the first 63 bytes, drizzle-kit's snapshot the whole name
export const workspaceMembershipInvitations = pgTable("workspace_membership_invitations", {
  id: serial("id").primaryKey(),
  invitedByOrganizationMemberUserId: integer("invited_by_organization_member_user_id").notNull().references(() => users.id),
  // spelled as schema.ts spells them: char without a length, SQL defaults
  code: char("code"),
  codes: char("codes").array(),
  tags: text("tags").array().notNull().default(sql`'{}'::text[]`),
  expiresAt: timestamp("expires_at", { withTimezone: true }).default(sql`now() + interval '30 days'`),
  langs: varchar("langs", { length: 8 }).array().default(sql`ARRAY['en']::varchar[]`),
}, (t) => [
  index("workspace_membership_invitations_invited_by_organization_member_user_id_idx").on(t.invitedByOrganizationMemberUserId),
]);

// a materialized view's query, as spelled
export const invitationIds = pgMaterializedView("invitation_ids").as((qb) =>
  qb.select({ id: workspaceMembershipInvitations.id }).from(workspaceMembershipInvitations));

// a primary key of one column declared on the table, with its name: drizzle-kit keeps it
// under compositePrimaryKeys, not on the column
export const settings = pgTable("settings", {
  key: text("key").notNull(),
  value: text("value"),
}, (t) => [primaryKey({ name: "settings_key_pk", columns: [t.key] })]);
