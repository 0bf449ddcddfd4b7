#include "rollback_target.hpp"

#include <fmt/format.h>

#include "core/markers.hpp"
#include "spi.hpp"

namespace dbkit {

std::vector<HistoryRow> history_newest_first() {
	spi::execute("SELECT tag, hash, how, down_hash, created_at FROM dbkit.migrations ORDER BY id DESC");
	std::vector<HistoryRow> history;
	for (uint64_t i = 0; i < spi::rows(); ++i)
		history.push_back({*spi::get_text(i, 1), *spi::get_text(i, 2), *spi::get_text(i, 3), spi::get_text(i, 4),
		                   spi::get_int64(i, 5)});
	return history;
}

std::string prepare_rollback_target(RollbackTarget &t, const HistoryRow &row, const LoadedFolder &lf) {
	t.row = row;
	const std::string &tag = row.tag;
	if (row.how != "applied") {
		const char *what = row.how == "baseline" ? "baselined"
		                   : row.how == "marked" ? "marked applied"
		                                         : "adopted from drizzle's table";
		return fmt::format("{} was {} (dbkit never ran it): a rollback stops before it", tag, what);
	}
	size_t pos = lf.folder.migrations.size();
	for (size_t i = 0; i < lf.folder.migrations.size(); ++i)
		if (lf.folder.migrations[i].tag == tag) {
			pos = i;
			break;
		}
	if (pos == lf.folder.migrations.size())
		return fmt::format("{} is not in the folder (its files are missing)", tag);
	t.m = &lf.folder.migrations[pos];
	if (lf.hashes[pos] != row.hash)
		return fmt::format("{} was modified after it was applied: its down file may not reverse what ran", t.m->file);
	if (!t.m->down_sql)
		return fmt::format("{} has no down file ({})", tag,
		                   lf.folder.layout == core::Folder::Layout::Folders ? tag + "/down.sql" : tag + ".down.sql");
	if (core::read_markers(*t.m->down_sql).irreversible)
		return fmt::format("{} is irreversible: {} is marked -- dbkit:irreversible", tag, t.m->down_file);
	t.down_hash = lf.down_hashes[pos];
	t.down.idx = t.m->idx;
	t.down.tag = tag;
	t.down.when = t.m->when;
	t.down.breakpoints = t.m->breakpoints;
	t.down.file = t.m->down_file;
	t.down.sql = *t.m->down_sql;
	t.stmts = plan_statements(t.down);  // a syntax error is reported against the down file
	t.non_transactional = is_non_transactional(t.down, t.stmts);
	return {};
}

}  // namespace dbkit
