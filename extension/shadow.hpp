#pragma once
// The shadow: PostgreSQL itself builds a desired schema in a subtransaction that
// is always rolled back, and dbkit.snapshot() reads it exactly as it reads the
// live schema, so both sides go through the same deparser. docs/design.md,
// "The shadow", says why a subtransaction and not a scratch database.
#include <cstdint>
#include <deque>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/folder.hpp"
#include "execute.hpp"

namespace dbkit {

struct ShadowOptions {
	int64_t lock_timeout_ms = 5000;  // for renaming the live schemas out of the way
	int64_t statement_timeout_ms = 0;
	// Schemas of the environment the caller knows of beyond what the sources name (drift
	// --dir: those the folder's pending migrations name and never create).
	std::set<std::string> environment;
	// The live schema's snapshot, when the built side is compared with it (drift --schema,
	// push): a live print the built object differs from is written back onto the built
	// object and, where PostgreSQL then stores what the built one holds, noted as its
	// "reprinted" (shadow_reprint.hpp).
	std::string live_snapshot;
};

// Runs the statements of `sources` in order (migrations of a folder, or one
// synthetic migration holding a schema file or a drizzle snapshot's DDL) in the
// shadow and returns dbkit.snapshot() of what they built, as jsonb text. SPI
// must be connected. A statement that fails raises an error naming the source,
// the statement and its line; nothing stays behind either way.
std::string shadow_snapshot(const std::vector<const core::Migration *> &sources, const ShadowOptions &opts);

// What the shadow reads once the statements ran, and what it notes after each
// statement that ran (the raw parse tree, NULL when there is none, and the text
// it was parsed from). Both are called inside the shadow, SPI connected.
class ShadowReader {
public:
	virtual ~ShadowReader() = default;
	virtual void after_statement(Node *tree, std::string_view text) {}
	virtual std::string read() = 0;  // text; shadow schema names are mapped back
	virtual void restart() {}        // the build starts again (with another stand-in): forget what was noted

	// Schemas of the environment the sources use but never create (a platform's, as
	// Supabase's auth), as a JSON array of names, and the keys of what the shadow copied
	// into their stand-ins (also a JSON array): not the code's, left out of what was built.
	std::string environment = "[]", environment_keys = "[]";
	// The keys those schemas hold live (read before the build renames them): what the
	// platform has, of which a stand-in copies only what the sources use. A desired schema
	// that declares them (a pg_dump -s with auth) asks for nothing the platform has.
	std::string platform_keys = "[]";
	std::string other_side;  // ShadowOptions::live_snapshot
};
// The shadow of shadow_snapshot with another reader.
std::string shadow_read(const std::vector<const core::Migration *> &sources, const ShadowOptions &opts,
                        ShadowReader &reader);

// A non-transactional migration's statements as they run inside a transaction
// with the same effect on the schema, as the shadow runs them: the author's
// transaction control and statements with no schema effect (VACUUM, REINDEX,
// ...) left out, CONCURRENTLY removed. `texts` owns the rewritten texts.
std::vector<PlannedStatement> in_transaction_equivalent(const std::vector<PlannedStatement> &stmts,
                                                        std::deque<std::string> &texts);

// dbkit.environment_schemas, from _PG_init.
void define_shadow_settings();

// The schema names the shadow gives the live schemas while it runs.
constexpr const char *kShadowSchemaPrefix = "dbkit_shadow_";

}  // namespace dbkit
