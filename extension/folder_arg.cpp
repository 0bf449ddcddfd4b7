#include "folder_arg.hpp"

#include <fmt/format.h>

#include "errcodes.hpp"
#include "sha256.hpp"

namespace dbkit {

void warn(const core::Finding &f) {
	const char *msg = f.message.c_str();
	const char *hint = f.hint.c_str();
	const char *code = f.code.c_str();
	PgCall([&]() noexcept {
		ereport(WARNING, (errmsg("%s", msg), errhint("%s", hint), errdetail("dbkit finding %s", code)));
	});
}

LoadedFolder load_folder_arg(Jsonb *folder) {
	LoadedFolder lf;
	lf.input = read_folder(folder);
	lf.folder = core::load_folder(lf.input);
	std::vector<const core::Finding *> errors;
	for (const auto &f : lf.folder.findings)
		if (f.severity == core::Severity::Error)
			errors.push_back(&f);
	if (!errors.empty()) {
		std::string detail;
		if (errors.size() > 1) {
			detail = fmt::format("{} problems:", errors.size());
			for (size_t i = 0; i < errors.size() && i < 20; ++i)
				detail += fmt::format("\n  [{}] {}", errors[i]->code, errors[i]->message);
			if (errors.size() > 20)
				detail += fmt::format("\n  ... and {} more (dbkit check lists them all)", errors.size() - 20);
		} else {
			detail = "finding " + errors[0]->code;
		}
		throw Error(DBKIT_FOLDER_INVALID, errors[0]->message, errors[0]->hint + " Nothing was applied.", detail);
	}
	for (const auto &f : lf.folder.findings)
		warn(f);
	lf.hashes.reserve(lf.folder.migrations.size());
	for (const auto &m : lf.folder.migrations)
		lf.hashes.push_back(sha256_hex(m.sql));
	return lf;
}

core::Plan plan_against_database(const LoadedFolder &lf, const Options &o, DrizzleTable *dz,
                                 std::vector<core::DrizzleRow> *drizzle_rows) {
	std::vector<core::HistoryRow> history = read_history();
	std::vector<core::DrizzleRow> drows;
	if (dz)
		drows = dz->read();
	core::PlanOptions po;
	po.out_of_order = o.out_of_order;
	core::Plan plan = core::make_plan(lf.folder.migrations, lf.hashes, history, drows, po);
	if (drizzle_rows)
		*drizzle_rows = std::move(drows);
	return plan;
}

}  // namespace dbkit
