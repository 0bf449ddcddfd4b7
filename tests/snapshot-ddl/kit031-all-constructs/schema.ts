// Every construct dbkit's snapshot_to_ddl builds (issue #10), for drizzle-kit 0.31 and 1.0.
import { sql } from 'drizzle-orm';
import {
  pgSchema, pgTable, pgEnum, pgSequence, pgView, pgMaterializedView, pgPolicy,
  integer, bigint, smallint, serial, text, varchar, numeric, boolean, jsonb, timestamp, date,
  doublePrecision, inet, index, uniqueIndex, primaryKey, unique, check, foreignKey,
} from 'drizzle-orm/pg-core';

export const billing = pgSchema('billing');
export const mood = pgEnum('mood', ['sad', 'ok', "it's great"]);
export const currency = billing.enum('currency', ['EUR', 'USD']);
export const orderSeq = pgSequence('order_seq', { startWith: 1000, increment: 5, minValue: 1000, maxValue: 99999999, cache: 10, cycle: true });
export const invoiceSeq = billing.sequence('invoice_seq', { startWith: 1 });

export const accounts = pgTable('accounts', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity({ startWith: 100, increment: 2 }),
  handle: varchar('handle', { length: 64 }).notNull().unique(),
  email: text('email').notNull(),
  phone: varchar('phone', { length: 32 }),
  displayName: text('Display Name'),
  mood: mood('mood').default('ok').notNull(),
  tags: text('tags').array().default(sql`'{}'::text[]`).notNull(),
  scores: integer('scores').array(),
  settings: jsonb('settings').default({ theme: 'dark' }),
  balance: numeric('balance', { precision: 12, scale: 2 }).default('0').notNull(),
  ratio: doublePrecision('ratio').default(0.5),
  active: boolean('active').default(true).notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).defaultNow().notNull(),
  emailLower: text('email_lower').generatedAlwaysAs(sql`lower("email")`),
  ip: inet('ip'),
}, (t) => [
  uniqueIndex('accounts_email_lower_idx').on(sql`lower(${t.email})`),
  index('accounts_created_idx').on(t.createdAt.desc().nullsLast()),
  index('accounts_tags_idx').using('gin', t.tags),
  index('accounts_active_idx').on(t.handle).where(sql`${t.active} = true`),
  index('accounts_handle_ops_idx').on(t.handle.op('text_pattern_ops')),
  check('accounts_balance_check', sql`${t.balance} >= 0`),
  unique('accounts_email_handle_uq').on(t.email, t.handle).nullsNotDistinct(),
  pgPolicy('accounts_read', { as: 'permissive', for: 'select', to: 'public', using: sql`true` }),
  pgPolicy('accounts_own', { as: 'restrictive', for: 'update', to: ['current_user', 'dbkit_snapddl_reader'], using: sql`${t.email} = current_user`, withCheck: sql`${t.email} = current_user` }),
]);

export const invoices = billing.table('invoices', {
  accountId: integer('account_id').notNull().references(() => accounts.id, { onDelete: 'cascade', onUpdate: 'restrict' }),
  number: bigint('number', { mode: 'number' }).notNull().default(sql`nextval('billing.invoice_seq')`),
  currency: currency('currency').notNull().default('EUR'),
  amounts: numeric('amounts').array(),
  issuedOn: date('issued_on').defaultNow(),
  lineNo: smallint('line_no').generatedByDefaultAsIdentity(),
  note: text('note').default("it's"),
}, (t) => [
  primaryKey({ columns: [t.accountId, t.number], name: 'invoices_pk' }),
  index('invoices_currency_hash_idx').using('hash', t.currency),
  index('invoices_note_idx').on(t.note.asc().nullsFirst(), t.currency.desc()),
  index('invoices_with_idx').on(t.issuedOn).with({ fillfactor: 70 }),
]);

export const categories = pgTable('category_tree_with_a_long_name_to_push_constraint_names', {
  id: serial('id').primaryKey(),
  parentId: integer('parent_id'),
  Name: text('Name').notNull(),
}, (t) => [
  foreignKey({ columns: [t.parentId], foreignColumns: [t.id], name: 'category_tree_parent_fk' }).onDelete('set null'),
  unique().on(t.Name),
]);

export const audit = pgTable('audit', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity({ cache: 20 }),
  what: text('what').notNull(),
}).enableRLS();

export const activeAccounts = pgView('active_accounts').with({ securityBarrier: true, checkOption: 'local' }).as((qb) =>
  qb.select({ id: accounts.id, handle: accounts.handle }).from(accounts).where(sql`${accounts.active} = true`));
export const accountStats = billing.materializedView('account_stats').as((qb) =>
  qb.select({ accountId: invoices.accountId, n: sql<number>`count(*)`.as('n') }).from(invoices).groupBy(invoices.accountId));
