#pragma once
#include <nlohmann/json.hpp>

#include "session.hpp"

namespace CLI {
class App;
}

namespace dbkit::client {

struct MigrateOptions {
	bool out_of_order = false;
	bool no_drizzle_sync = false;
	std::string drizzle_schema, drizzle_table;
	bool verbose = false;
	std::string transaction = "all";  // all | each
	bool dry_run = false;
	bool resume = false;
	long lock_timeout_ms = -1, statement_timeout_ms = -1;  // -1: the server's default
	int lock_retries = -1;
	long wait_ms = -1;  // --wait: for another deploy's lock; -1: the server's default (10min)
	bool rehearse = false;   // --rehearse: up, down, up for each pending migration, rolled back
	std::string backup_dir;  // --backup DIR: pg_dump -Fc into DIR before applying anything pending
};

struct RollbackOptions {
	long steps = 0;
	std::string to, reason;
};

// The options every writing command passes to the server: where drizzle's table
// is, the timeouts and the deploy lock's wait (only those given on the command line).
nlohmann::json server_options(const MigrateOptions &m);

int cmd_migrate(const Common &c, const MigrateOptions &m);
int cmd_status(const Common &c, bool all);
int cmd_init(const Common &c);
int cmd_check(const Common &c, bool offline);
int cmd_drift(const Common &c);
int cmd_drift_schema(const Common &c, const std::string &schema_file);  // dbkit drift --schema FILE
// Hidden, for development: the schema diff between two dbkit.snapshot() files, as SQL.
int cmd_diff_snapshots(const std::string &from_path, const std::string &to_path, const std::vector<std::string> &renames,
                       bool drop_and_add, bool no_concurrently);
int cmd_lint(const Common &c, bool show_info);
struct SchemaOptions;  // schema_plan.hpp
int cmd_generate(const Common &c, const std::string &name, SchemaOptions o);
int cmd_push(const Common &c, SchemaOptions o);
int cmd_rehearse(const Common &c, const MigrateOptions &m);
int cmd_down(const Common &c, const std::string &tag, const SchemaOptions &o, bool write, bool force);
int cmd_accept_drift(const Common &c, const std::string &reason);
int cmd_rollback(const Common &c, const RollbackOptions &r, const MigrateOptions &m);
int cmd_repair(const Common &c, const std::string &action, const std::string &tag, const std::string &reason,
               const MigrateOptions &m);
// dbkit studio (client/cmd_studio.cpp): registers its options, then runs.
CLI::App *add_studio_command(CLI::App &app, std::string &url, Common &c);
int cmd_studio(const Common &c);
// dbkit schema-ddl --snapshot FILE (hidden): the DDL a drizzle snapshot declares (client/cmd_schema_ddl.cpp).
int cmd_schema_ddl(const std::string &snapshot_path);

}  // namespace dbkit::client
