// dbkit studio: the command line of the local web page (client/studio/*).
#include <filesystem>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "commands.hpp"
#include "core/markers.hpp"
#include "exit_codes.hpp"
#include "studio/studio.hpp"

namespace dbkit::client {

namespace {
studio::Options g_opt;
std::string g_timeout = "5s";
bool g_read_only = false;
}  // namespace

CLI::App *add_studio_command(CLI::App &app, std::string &url, Common &c) {
	auto *sub = app.add_subcommand(
	    "studio", "Serve a local web page with the migrations, drift, schema and data (read-only unless --allow-edit)");
	sub->add_option("--url", url, "PostgreSQL connection URL or conninfo (default: DATABASE_URL, then PG* variables)");
	sub->add_option("--dir", c.dir, "Migrations folder written by drizzle-kit (shows pending, modified, ... and the SQL)")
	    ->capture_default_str();
	sub->add_option("--port", g_opt.port, "Port to listen on (0: any free port)")->capture_default_str();
	sub->add_option("--host", g_opt.host,
	                "Address to listen on; anything but 127.0.0.1 exposes the database to the network (a warning is printed)")
	    ->capture_default_str();
	sub->add_flag("--open", g_opt.open, "Open the page in the default browser (xdg-open)");
	auto *edit = sub->add_flag("--allow-edit", g_opt.allow_edit,
	                           "Allow editing rows (by primary key, one transaction each) and read-write console statements");
	sub->add_flag("--read-only", g_read_only,
	              "No edits; the console runs with default_transaction_read_only (the default)")
	    ->excludes(edit);
	sub->add_option("--statement-timeout", g_timeout, "Time limit of each console and data-browser statement")
	    ->capture_default_str();
	sub->add_option("--max-rows", g_opt.max_rows, "Most rows in one page of results")->capture_default_str();
	return sub;
}

int cmd_studio(const Common &c) {
	auto ms = core::parse_duration_ms(g_timeout);
	if (!ms || *ms <= 0) {
		fmt::print(stderr, "dbkit: {} is not a duration (examples: 500ms, 5s, 2min)\n", g_timeout);
		return kUsage;
	}
	if (g_opt.max_rows < 1 || g_opt.port < 0 || g_opt.port > 65535) {
		fmt::print(stderr, "dbkit: --max-rows must be 1 or more and --port 0..65535\n");
		return kUsage;
	}
	g_opt.statement_timeout_ms = static_cast<long>(*ms);
	g_opt.url = c.url;
	std::error_code ec;
	if (c.dir_given && !std::filesystem::is_directory(c.dir, ec)) {
		fmt::print(stderr, "dbkit: {} does not exist or is not a folder\n", c.dir);
		return kUsage;
	}
	g_opt.dir = c.dir_given || std::filesystem::is_directory(c.dir, ec) ? c.dir : "";
	return studio::run(g_opt);
}

}  // namespace dbkit::client
