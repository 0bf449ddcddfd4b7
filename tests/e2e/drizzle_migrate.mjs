// Runs drizzle-orm's own node-postgres migrator, as an application does at boot.
//   node drizzle_migrate.mjs <migrationsFolder> [migrationsSchema] [migrationsTable]
// Connects with the libpq variables (PGHOST may be a Unix socket directory, PGPORT, PGUSER,
// PGDATABASE, PGPASSWORD). drizzle-orm and pg resolve from the node_modules beside this file:
// test_drizzle_interop.sh copies it into each npm install directory before running it.
// Prints one line and exits 0, or prints the error and exits 1.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

const [folder, schema, table] = process.argv.slice(2);
if (!folder) {
	console.error("usage: node drizzle_migrate.mjs <migrationsFolder> [migrationsSchema] [migrationsTable]");
	process.exit(2);
}

let client;
try {
	const { default: pg } = await import("pg");
	const { drizzle } = await import("drizzle-orm/node-postgres");
	const { migrate } = await import("drizzle-orm/node-postgres/migrator");
	const version = JSON.parse(readFileSync(new URL("./node_modules/drizzle-orm/package.json", import.meta.url))).version;

	client = new pg.Client({
		host: process.env.PGHOST,
		port: process.env.PGPORT ? Number(process.env.PGPORT) : undefined,
		user: process.env.PGUSER,
		database: process.env.PGDATABASE,
		password: process.env.PGPASSWORD,
	});
	await client.connect();
	const config = { migrationsFolder: resolve(folder) };
	if (schema) config.migrationsSchema = schema;
	if (table) config.migrationsTable = table;
	await migrate(drizzle({ client }), config);
	console.log(`drizzle-orm ${version}: migrate(${config.migrationsFolder}) done`);
	await client.end();
	process.exit(0);
} catch (e) {
	console.error(`drizzle migrate failed: ${e?.stack ?? e}`);
	if (e?.cause) console.error(`cause: ${e.cause?.message ?? e.cause}`);
	try {
		await client?.end();
	} catch {}
	process.exit(1);
}
