// The newest drizzle snapshot of a folder as PostgreSQL builds it: its DDL
// (core/snapshot_ddl.hpp) run in the shadow.
#include "code_side.hpp"
#include "core/drizzle_snapshots.hpp"

namespace dbkit {

std::optional<CodeSnapshot> snapshot_side(const LoadedFolder &lf, const ShadowOptions &opts) {
	(void)opts;
	if (!core::newest_snapshot(lf.input, lf.folder))
		return std::nullopt;
	return std::nullopt;  // until snapshot_ddl lands
}

}  // namespace dbkit
