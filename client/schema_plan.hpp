#pragma once
// A plan from the schema engine (dbkit_diff, dbkit_push), as the client shows it
// and writes it into migration files.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "connection.hpp"

namespace dbkit::client {

struct PlanStep {
	int step = 0;
	std::string sql;
	bool no_transaction = false;
	bool data_loss = false;
	std::vector<std::string> hazards;
	std::string object, comment;
	std::optional<long long> rows_at_risk;
};

// Rows of dbkit_diff (step, statement, no_transaction, data_loss, hazards, object, comment).
std::vector<PlanStep> plan_from_diff(const Result &r);
// Rows of dbkit_push (step, statement, hazards, rows_at_risk, applied, plan_sha256).
std::vector<PlanStep> plan_from_push(const Result &r);

void print_plan(const std::vector<PlanStep> &plan);
nlohmann::json plan_json(const std::vector<PlanStep> &plan);

// The engine's options from the command line: renames, drop-and-add, ...
struct SchemaOptions {
	std::string schema_file;
	bool from_snapshot = false;
	std::vector<std::string> renames;
	bool drop_and_add = false;
	bool accept_data_loss = false;
	bool dry_run = false;
	bool check = false;
	std::string reason;
	long lock_timeout_ms = -1, wait_ms = -1;
};
nlohmann::json engine_options(const SchemaOptions &o);

// The schema file's text, or nullopt after printing why it cannot be read.
std::optional<std::string> read_schema_file(const std::string &path, bool json);

}  // namespace dbkit::client
