#pragma once
// Shared by the schema engine's SQL functions (schema_engine.cpp, push.cpp,
// code drift): their options and the sources a desired schema comes from.
#include <string>
#include <vector>

#include "folder_arg.hpp"
#include "shadow.hpp"

namespace dbkit {

struct EngineOptions {
	ShadowOptions shadow;
	std::string through;              // build a folder only up to this tag
	std::string name = "schema.sql";  // what errors call a schema file
	bool dry_run = false;
	bool accept_data_loss = false;
	bool drop_and_add = false;          // drop+add pairs are not renames
	bool keep_undeclared = false;       // the desired side is a drizzle snapshot (core::DiffOptions)
	bool concurrent_indexes = true;     // dbkit_diff: indexes on existing tables CONCURRENTLY
	std::vector<std::string> renames;   // "public.users.bio=about", "public.posts=articles"
	std::string reason;
	Options base;  // lock_wait, drizzle_schema, ... as dbkit_apply reads them
};
EngineOptions read_engine_options(Jsonb *options);

// A schema file as one migration: statements split by PostgreSQL's parser (a
// breakpoint marker splits too, so `drizzle-kit export` output reads as is).
inline core::Migration schema_file(std::string_view sql, const std::string &name) {
	core::Migration m;
	m.tag = name;
	m.file = name;
	m.sql = sql;
	m.breakpoints = true;
	return m;
}

// Comments on a side that cannot declare them. A drizzle snapshot never can; a
// schema file that holds no COMMENT statement at all (drizzle-kit export writes
// none) is taken not to either, so its side keeps the other side's comments
// instead of dropping or reporting them. SPI connected.
bool declares_comments(std::string_view sql);
// The snapshot marked "dbkit:format": {"comments": false} (dbkit_diff then keeps the
// other side's comments, core/schema_diff.hpp).
std::string marked_without_comments(const std::string &snapshot);

std::vector<const core::Migration *> migrations_through(const LoadedFolder &lf, const std::string &through);
std::string jsonb_text(Jsonb *j);
Datum jsonb_datum(const std::string &text);

}  // namespace dbkit
