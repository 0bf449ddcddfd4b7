// dbkit: the command-line client. It reads a migrations folder, ships it to the
// dbkit extension in one call, prints what the server did and exits with a code
// a deploy script can rely on. Every decision is made in the server.
#include <cstdio>
#include <filesystem>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "commands.hpp"
#include "core/markers.hpp"
#include "exit_codes.hpp"
#include "fleet.hpp"
#include "report.hpp"
#include "schema_plan.hpp"
#include "session.hpp"
#include "version.hpp"

using namespace dbkit::client;

namespace {

// --json anywhere before "--": known even when CLI11 stops before parsing it.
bool json_requested(int argc, char **argv) {
	for (int i = 1; i < argc; ++i) {
		std::string a = argv[i];
		if (a == "--")
			return false;
		if (a == "--json")
			return true;
	}
	return false;
}

int usage_error(bool json, const std::string &message) {
	if (json) {
		ServerError e;
		e.message = message;
		e.hint = "Run dbkit --help, or dbkit COMMAND --help.";
		remember_error("usage", e);
		emit_json(last_error_json(kUsage, "usage"));
	}
	return kUsage;
}

int run(int argc, char **argv);

}  // namespace

int main(int argc, char **argv) {
	bool json = json_requested(argc, argv);
	int rc;
	try {
		rc = run(argc, argv);
	} catch (const std::exception &e) {
		fmt::print(stderr, "dbkit: internal error: {}\n", e.what());
		ServerError err;
		err.message = std::string("internal error: ") + e.what();
		remember_error("internal", err);
		rc = kFailed;
	}
	// Every path prints exactly one document with --json: one that printed
	// none (a failed init, accept-drift, ...) gets the error it reported.
	if (json && json_documents_printed() == 0) {
		if (rc == kOk)
			emit_json({{"ok", true}});
		else
			emit_json(last_error_json(rc, rc == kUsage ? "usage" : rc == kConnection ? "connection" : "failed"));
	}
	return rc;
}

namespace {

int run(int argc, char **argv) {
	bool json = json_requested(argc, argv);
	// a server that accepts the connection and never answers must not hang a deploy (see connection.hpp)
	set_connect_timeout(kDefaultConnectTimeoutSeconds, /*replace=*/false);
	CLI::App app{"dbkit: apply and check drizzle-kit migrations from inside PostgreSQL.\n"
	             "Connection: --url, else DATABASE_URL, else the libpq variables (PGHOST, PGPORT, PGUSER, ...).\n"
	             "Exit codes: 0 ok, 1 migration failed or refused, 2 usage, 3 connection or extension missing,\n"
	             "            4 drift found, 5 validation errors found.",
	             "dbkit"};
	app.set_version_flag("--version", std::string("dbkit ") + kVersion);
	app.require_subcommand(1);

	Common c;
	std::string url;
	auto add_common = [&](CLI::App *sub, bool dir) {
		sub->add_option("--url", url, "PostgreSQL connection URL or conninfo (default: DATABASE_URL, then PG* variables)");
		sub->add_flag("--json", c.json, "Print a JSON document on stdout instead of text");
		if (dir)
			sub->add_option("--dir", c.dir, "Migrations folder written by drizzle-kit")->capture_default_str();
	};

	MigrateOptions mo;
	auto *migrate = app.add_subcommand("migrate", "Apply the pending migrations of the folder");
	add_common(migrate, true);
	migrate->add_flag("--allow-out-of-order", mo.out_of_order,
	                  "Apply a pending migration that sorts before one already applied (a branch merged late)");
	migrate->add_flag("--no-drizzle-sync", mo.no_drizzle_sync,
	                  "Do not keep drizzle.__drizzle_migrations in step (drizzle's migrator would then re-run them)");
	migrate->add_option("--drizzle-schema", mo.drizzle_schema, "Schema of drizzle's table (default drizzle)");
	migrate->add_option("--drizzle-table", mo.drizzle_table, "Name of drizzle's table (default __drizzle_migrations)");
	migrate->add_flag("-v,--verbose", mo.verbose, "Also list migrations that were already applied");
	migrate->add_option("--transaction", mo.transaction,
	                    "all: every pending migration in one transaction (all or nothing; the default); each: every "
	                    "migration commits on its own")
	    ->check(CLI::IsMember({"all", "each"}))
	    ->capture_default_str();
	migrate->add_flag("--dry-run", mo.dry_run,
	                  "Run the pending migrations in a transaction that is rolled back; report time, rows, locks, rewrites");
	migrate->add_flag("--resume", mo.resume,
	                  "Continue a non-transactional migration from the statement where it stopped");
	std::string lock_timeout, statement_timeout;
	migrate->add_option("--lock-timeout", lock_timeout, "Per statement lock wait before retrying (default 5s)");
	migrate->add_option("--statement-timeout", statement_timeout, "Per statement time limit (default none)");
	migrate->add_option("--lock-retries", mo.lock_retries, "Retries after a lock timeout or deadlock (default 5)");
	std::string wait;
	migrate->add_option("--wait", wait,
	                    "How long to wait for dbkit's deploy lock while another deploy or repair holds it (default "
	                    "10min; 0: fail at once)");

	migrate->add_flag("--rehearse", mo.rehearse,
	                  "For each pending migration run up, down, up in a transaction that is rolled back, and check "
	                  "the down file gives the schema back");
	migrate->add_option("--backup", mo.backup_dir,
	                    "Before applying anything pending, pg_dump -Fc the database into DIR (refuses to migrate if the "
	                    "dump fails)");

	// --targets: migrate, status, drift and check over many databases (client/fleet.hpp)
	fleet::FleetOptions fo;
	fleet::add_fleet_options(migrate, fo);

	RollbackOptions ro;
	auto *rollback = app.add_subcommand("rollback", "Run the down files of the newest applied migrations, newest first");
	add_common(rollback, true);
	auto *steps_opt = rollback->add_option("--steps", ro.steps, "Roll back the newest N applied migrations")
	                      ->check(CLI::Validator(
	                          [](std::string &v) {
		                          try {
			                          size_t used = 0;
			                          long long n = std::stoll(v, &used);
			                          if (used == v.size() && n >= 1)
				                          return std::string();
		                          } catch (const std::exception &) {
		                          }
		                          return "--steps must be a whole number of migrations, 1 or more (got " + v + ")";
	                          },
	                          "N >= 1"));
	auto *to_opt = rollback->add_option("--to", ro.to, "Roll back every migration applied after TAG (TAG stays applied)");
	steps_opt->excludes(to_opt);
	rollback->add_option("--reason", ro.reason, "Why; recorded in dbkit.events")->required();
	rollback->add_option("--transaction", mo.transaction,
	                     "all: every down file in one transaction (the default); each: each rollback commits on its own")
	    ->check(CLI::IsMember({"all", "each"}))
	    ->capture_default_str();
	rollback->add_flag("--dry-run", mo.dry_run, "List what would run (down files, statements) and change nothing");
	rollback->add_flag("--resume", mo.resume,
	                   "Continue a non-transactional down file that stopped half-way, from its stopping point");
	rollback->add_flag("--no-drizzle-sync", mo.no_drizzle_sync, "Leave drizzle's table alone");
	rollback->add_option("--drizzle-schema", mo.drizzle_schema, "Schema of drizzle's table (default drizzle)");
	rollback->add_option("--drizzle-table", mo.drizzle_table, "Name of drizzle's table (default __drizzle_migrations)");
	rollback->add_option("--lock-timeout", lock_timeout, "Per statement lock wait (default 5s)");
	rollback->add_option("--statement-timeout", statement_timeout, "Per statement time limit (default none)");
	rollback->add_option("--wait", wait, "How long to wait for dbkit's deploy lock (default 10min; 0: fail at once)");

	auto *status = app.add_subcommand("status", "Show every migration of the folder with its state (or the history)");
	add_common(status, true);
	bool status_all = false;
	status->add_flag("--no-cache", c.no_cache,
	                 "Read and send every file, and compute the answer again (also DBKIT_NO_CACHE=1)");
	status->add_flag("--all", status_all, "List every migration (by default a long list shows what needs attention and the newest 20)");
	fleet::add_fleet_options(status, fo);

	bool offline = false;
	auto *check = app.add_subcommand("check", "Check the folder (and it against the database) and list every finding");
	add_common(check, true);
	check->add_flag("--offline", offline, "No database: the same server-free rules, parser checks skipped");
	bool check_rehearse = false;
	check->add_flag("--rehearse", check_rehearse,
	                "Also rehearse the pending migrations' down files: up, down, up, rolled back (run it against a "
	                "scratch or CI database)");
	fleet::add_fleet_options(check, fo);

	auto *drift = app.add_subcommand("drift", "Compare the live schema with what the migrations left and, with a folder, "
	                                          "with what the code declares (exit 4 on drift)");
	add_common(drift, true);
	std::string drift_schema;
	drift->add_option("--schema", drift_schema,
	                  "Compare the live schema with the schema this SQL file builds (drizzle-kit export), instead of a folder");
	fleet::add_fleet_options(drift, fo);

	bool lint_info = false;
	auto *lint = app.add_subcommand("lint", "Lint the pending migrations with PostgreSQL's parser (exit 5 on errors)");
	add_common(lint, true);
	lint->add_flag("--info", lint_info, "Also show findings that are not a hazard here (empty tables)");

	std::string drift_reason;
	auto *accept_drift = app.add_subcommand("accept-drift", "Take the live schema as the new reference for dbkit drift");
	add_common(accept_drift, false);
	accept_drift->add_option("--reason", drift_reason, "Why the live schema is right; recorded in dbkit.events")->required();

	std::string tag, reason;
	std::vector<CLI::App *> repairs;
	for (const char *name : {"mark-applied", "baseline", "forget", "accept-change"}) {
		const char *what = std::string(name) == "mark-applied" ? "Record TAG as applied without running it (the change was made by hand)"
		                   : std::string(name) == "baseline"   ? "Record that the database is already at TAG: TAG and every migration before it"
		                   : std::string(name) == "forget"     ? "Drop TAG from the history (after rolling it back by hand)"
		                                                       : "Re-record the hash of TAG, whose applied file was edited on purpose";
		auto *sub = app.add_subcommand(name, what);
		add_common(sub, std::string(name) != "forget");
		sub->add_option("TAG", tag, "The migration's tag, as the journal names it")->required();
		auto *r = sub->add_option("--reason", reason, "Why; recorded in dbkit.events");
		sub->add_flag("--no-drizzle-sync", mo.no_drizzle_sync, "Leave drizzle's table alone");
		sub->add_option("--drizzle-schema", mo.drizzle_schema, "Schema of drizzle's table (default drizzle)");
		sub->add_option("--drizzle-table", mo.drizzle_table, "Name of drizzle's table (default __drizzle_migrations)");
		sub->add_option("--wait", wait, "How long to wait for dbkit's deploy lock (default 10min; 0: fail at once)");
		if (std::string(name) != "baseline")
			r->required();
		repairs.push_back(sub);
	}

	auto *studio = add_studio_command(app, url, c);

	// Hidden (no group): the schema diff of two snapshot files, for the round-trip scripts.
	std::string diff_from, diff_to;
	std::vector<std::string> diff_renames;
	bool diff_drop_and_add = false, diff_no_concurrently = false;
	auto *diff_snapshots = app.add_subcommand("diff-snapshots", "The DDL from one dbkit.snapshot() file to another");
	diff_snapshots->group("");
	diff_snapshots->add_option("FROM", diff_from, "dbkit.snapshot() of the current schema")->required();
	diff_snapshots->add_option("TO", diff_to, "dbkit.snapshot() of the desired schema")->required();
	diff_snapshots->add_option("--rename", diff_renames, "FROM=TO, e.g. public.users.bio=about, public.posts=articles or public.posts=blog.posts (a move)");
	diff_snapshots->add_flag("--drop-and-add", diff_drop_and_add, "Lost and gained columns/tables are unrelated");
	diff_snapshots->add_flag("--no-concurrently", diff_no_concurrently, "Build indexes inside the transaction");
	// The schema engine: the desired schema built by PostgreSQL in a shadow, catalogs diffed.
	SchemaOptions so;
	std::string generate_name, push_wait, push_lock_timeout;
	auto *generate = app.add_subcommand(
	    "generate", "Write the next migration: what takes the folder's schema to a schema file (or its newest snapshot)");
	add_common(generate, true);
	generate->add_option("NAME", generate_name, "The migration's name (its tag is NNNN_NAME)")->required();
	auto *gen_schema = generate->add_option("--schema", so.schema_file, "SQL that builds the desired schema (drizzle-kit export, or hand-written)");
	generate->add_flag("--from-snapshot", so.from_snapshot, "The desired schema is the folder's newest drizzle snapshot")
	    ->excludes(gen_schema);
	generate->add_option("--rename", so.renames, "FROM=TO: public.users.bio=about, public.posts=articles, public.posts=blog.posts (a move; repeatable)");
	generate->add_flag("--drop-and-add", so.drop_and_add, "Columns/tables lost and gained are unrelated, not renames");
	generate->add_flag("--check", so.check, "Write nothing; exit 4 when the folder is behind the schema");
	std::string down_tag;
	bool down_write = false, down_force = false;
	SchemaOptions down_o;
	auto *down = app.add_subcommand("down", "Compute a migration's down file from the schemas after and before it");
	add_common(down, true);
	down->add_option("TAG", down_tag, "The migration to reverse")->required();
	down->add_flag("--write", down_write, "Write <tag>.down.sql (or <folder>/down.sql) instead of printing it");
	down->add_flag("--force", down_force, "Replace an existing down file");
	down->add_option("--rename", down_o.renames, "How to undo a rename the migration made: public.users.about=bio "
	                 "(the migration's own RENAME statements are read without it)");
	down->add_flag("--drop-and-add", down_o.drop_and_add, "What the migration lost and gained is unrelated: the down file "
	               "drops what it added and makes again what it dropped");
	auto *push = app.add_subcommand("push", "Development: make the database match a schema file, in one transaction");
	add_common(push, false);
	push->add_option("--schema", so.schema_file, "SQL that builds the desired schema")->required();
	push->add_flag("--dry-run", so.dry_run, "Print the plan and change nothing");
	push->add_flag("--accept-data-loss", so.accept_data_loss, "Allow dropping tables, columns or enum values that hold data");
	push->add_option("--rename", so.renames, "FROM=TO: public.users.bio=about, public.posts=articles, public.posts=blog.posts (a move; repeatable)");
	push->add_flag("--drop-and-add", so.drop_and_add, "Columns/tables lost and gained are unrelated, not renames");
	push->add_option("--reason", so.reason, "Why; recorded in dbkit.events");
	push->add_option("--lock-timeout", push_lock_timeout, "Per statement lock wait (default 5s)");
	push->add_option("--wait", push_wait, "How long to wait for dbkit's deploy lock (default 10min)");

	// Hidden (no group): a development tool for the schema engine (issue #10).
	std::string ddl_snapshot;
	auto *schema_ddl = app.add_subcommand("schema-ddl", "Print the DDL that builds the schema a drizzle snapshot declares");
	schema_ddl->group("");
	schema_ddl->add_option("--snapshot", ddl_snapshot, "meta/NNNN_snapshot.json or <migration>/snapshot.json")->required();

	auto *init = app.add_subcommand("init", "CREATE EXTENSION IF NOT EXISTS dbkit (needs a superuser)");
	add_common(init, false);

	// set last: subcommands copy the footer of their parent when they are made
	app.footer("Many databases: dbkit migrate|status|drift|check --targets FILE [--parallel N] [--canary K] "
	           "[--fail-fast] [--log-dir DIR] [--connect-timeout SECONDS] (one connection string or service name a line).");
	try {
		app.parse(argc, argv);
	} catch (const CLI::CallForHelp &e) {
		++json_documents_printed();  // help and version are text, even with --json
		return app.exit(e);
	} catch (const CLI::CallForAllHelp &e) {
		++json_documents_printed();  // help and version are text, even with --json
		return app.exit(e);
	} catch (const CLI::CallForVersion &e) {
		++json_documents_printed();  // help and version are text, even with --json
		return app.exit(e);
	} catch (const CLI::ParseError &e) {
		app.exit(e);
		return usage_error(json, e.what());
	}
	if (!url.empty())
		c.url = url;
	for (auto [text, out] : {std::pair{&lock_timeout, &mo.lock_timeout_ms}, std::pair{&statement_timeout, &mo.statement_timeout_ms},
	                          std::pair{&wait, &mo.wait_ms}, std::pair{&push_wait, &so.wait_ms},
	                          std::pair{&push_lock_timeout, &so.lock_timeout_ms}}) {
		if (text->empty())
			continue;
		auto ms = dbkit::core::parse_duration_ms(*text);
		if (!ms) {
			fmt::print(stderr, "dbkit: {} is not a duration (examples: 500ms, 5s, 2min)\n", *text);
			return usage_error(json, *text + " is not a duration (examples: 500ms, 5s, 2min)");
		}
		*out = static_cast<long>(*ms);
	}
	for (auto *sub : app.get_subcommands())
		if (sub->parsed())
			for (auto *opt : sub->get_options())
				if (opt->get_name() == "--dir" && opt->count() > 0)
					c.dir_given = true;

	for (auto *sub : {migrate, status, check, drift}) {
		if (!sub->parsed())
			continue;
		if (fo.targets.empty() && fleet::fleet_options_given(sub)) {
			fmt::print(stderr, "dbkit: --parallel, --canary, --fail-fast, --log-dir and --connect-timeout go with "
			                   "--targets FILE\n");
			return usage_error(json, "--parallel, --canary, --fail-fast, --log-dir and --connect-timeout go with "
			                         "--targets FILE");
		}
		if (!fo.targets.empty() && sub == check && offline) {
			fmt::print(stderr, "dbkit: check --offline reads no database: --targets does not go with it\n");
			return usage_error(json, "check --offline reads no database: --targets does not go with it");
		}
	}
	if (check->parsed() && check_rehearse && (offline || json)) {
		std::string why = offline ? "check --rehearse needs a database (not --offline)"
		                          : "check --rehearse prints text; for JSON run check --json and migrate "
		                            "--rehearse --json";
		if (!json)
			fmt::print(stderr, "dbkit: {}\n", why);
		return usage_error(json, why);
	}
	if (!fo.targets.empty()) {
		using fleet::Target;
		// --rehearse and --dry-run change nothing on any target, as on one (a fleet run
		// called migrate for --rehearse and applied everything)
		if (migrate->parsed())
			return fleet::run_fleet("migrate", c, fo, [&](const Common &tc, const Target &t, size_t) {
				MigrateOptions m = mo;
				if (!m.backup_dir.empty())  // a directory per target: two databases may share a name
					m.backup_dir = (std::filesystem::path(mo.backup_dir) / t.stem).string();
				return m.rehearse ? cmd_rehearse(tc, m) : cmd_migrate(tc, m);
			});
		if (status->parsed())
			return fleet::run_fleet("status", c, fo,
			                        [&](const Common &tc, const Target &, size_t) { return cmd_status(tc, status_all); });
		if (drift->parsed())
			return fleet::run_fleet("drift", c, fo, [&](const Common &tc, const Target &, size_t) { return cmd_drift(tc); });
		if (check->parsed())
			return fleet::run_fleet("check", c, fo, [&](const Common &tc, const Target &, size_t) {
				int rc = cmd_check(tc, false);
				if (!check_rehearse)
					return rc;
				int rehearsed = cmd_rehearse(tc, mo);
				return rc != kOk ? rc : rehearsed;
			});
	}
	{
		if (migrate->parsed())
			return mo.rehearse ? cmd_rehearse(c, mo) : cmd_migrate(c, mo);
		if (down->parsed())
			return cmd_down(c, down_tag, down_o, down_write, down_force);
		if (generate->parsed())
			return cmd_generate(c, generate_name, so);
		if (push->parsed())
			return cmd_push(c, so);
		if (rollback->parsed()) {
			if ((ro.steps > 0) == !ro.to.empty()) {
				fmt::print(stderr, "dbkit: rollback needs --steps N or --to TAG (one of them)\n");
				return usage_error(json, "rollback needs --steps N or --to TAG (one of them)");
			}
			return cmd_rollback(c, ro, mo);
		}
		if (status->parsed())
			return cmd_status(c, status_all);
		if (init->parsed())
			return cmd_init(c);
		if (drift->parsed())
			return drift_schema.empty() ? cmd_drift(c) : cmd_drift_schema(c, drift_schema);
		if (lint->parsed())
			return cmd_lint(c, lint_info);
		if (accept_drift->parsed())
			return cmd_accept_drift(c, drift_reason);
		if (check->parsed()) {
			int rc = cmd_check(c, offline);
			if (!check_rehearse)
				return rc;
			int rehearsed = cmd_rehearse(c, mo);
			return rc != kOk ? rc : rehearsed;  // the check's finding first, then the rehearsal's
		}
		if (diff_snapshots->parsed())
			return cmd_diff_snapshots(diff_from, diff_to, diff_renames, diff_drop_and_add, diff_no_concurrently);
		if (studio->parsed())
			return cmd_studio(c);
		if (schema_ddl->parsed())
			return cmd_schema_ddl(ddl_snapshot);
		for (auto *sub : repairs)
			if (sub->parsed())
				return cmd_repair(c, sub->get_name(), tag, reason, mo);
	}
	return usage_error(json, "no command given");
}

}  // namespace
