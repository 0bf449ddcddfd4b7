#pragma once
// dbkit's history (dbkit.migrations, dbkit.events) and drizzle's own table,
// kept consistent so that drizzle's migrator finds nothing left to apply.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/plan.hpp"
#include "deploy_lock.hpp"
#include "payload.hpp"

namespace dbkit {

std::vector<core::HistoryRow> read_history();

// Raises 42501 naming what the current role lacks of a deployer's grants on
// dbkit's tables and sequences, and the dbkit_grant_deployer() call that grants
// them. For every function that writes dbkit's state; after spi::connect().
void require_deployer(const char *fn);
// The rights dbkit_drift reads with (pg_monitor's, or a deployer's); 42501 naming what is missing.
void require_reader(const char *fn);

class DrizzleTable {
public:
	DrizzleTable(const Options &o);
	bool exists() const { return exists_; }
	std::vector<core::DrizzleRow> read() const;
	// The query read() runs: id, hash, created_at, name (NULL where the column
	// is absent). Only when exists().
	std::string read_sql() const;
	// When this table is absent: refuses (DK017) if another table with drizzle's
	// shape (hash text, created_at bigint) records any of `hashes`, naming it and
	// the flags that point at it.
	void refuse_if_elsewhere(const std::vector<std::string> &hashes) const;
	// Creates schema and table if absent: drizzle 1.0's shape (name, applied_at)
	// for a folders-layout project, 0.x's shape otherwise.
	void ensure(bool v1_shape);
	void insert(const std::string &hash, int64_t when, const std::string &name);
	void remove(const std::string &hash, std::optional<int64_t> when);  // one row: a forgotten migration
	// one migration's row (by hash and `when`, and name in 1.0's shape), never another's with the same content
	void rehash(const std::string &old_hash, const std::string &new_hash, int64_t when, const std::string &name);
	void rename(const std::string &hash, int64_t when, const std::string &old_name, const std::string &name);  // drizzle 1.0 shape: follow a renamed folder

private:
	void detect();
	void check_trust();
	std::string one_row_where() const;
	void check_can_create();  // CREATE on the database (no schema yet) or on the schema, else a clear error
	std::string schema_, table_, qualified_;
	bool exists_ = false, has_id_ = false, has_name_ = false, has_created_at_ = false;
	SPIPlanPtr insert_plan_ = nullptr;
};

struct Recorded {
	std::string tag;
	int64_t idx;
	std::string hash;
	int64_t when;
	double duration_ms;
	int statements;
	const char *how;  // applied | adopted | marked | baseline
	std::optional<std::string> down_hash = std::nullopt;  // sha256 of its down file when it was recorded
};

class HistoryWriter {
public:
	// Opens a run in dbkit.events: who and when come from the session.
	explicit HistoryWriter(const char *action, const std::string &tag = {}, const std::string &reason = {},
	                       const std::string &detail_json = {});
	int64_t run_id() const { return run_id_; }
	void record(const Recorded &r);
	void set_detail(const std::string &detail_json);
	void rename(const std::string &old_tag, const std::string &new_tag, int64_t idx);  // what the run did, for dbkit.events

private:
	int64_t run_id_ = 0;
	SPIPlanPtr insert_plan_ = nullptr;
};

}  // namespace dbkit
