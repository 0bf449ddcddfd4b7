// dbkit._folder_status(folder, options): every migration of the folder with its
// state. The SQL wrapper dbkit_status(folder) joins in the history's details.
#include <map>
#include <optional>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "db_plan.hpp"
#include "deploy_lock.hpp"
#include "execute.hpp"
#include "folder_arg.hpp"
#include "spi.hpp"
#include "srf.hpp"

using namespace dbkit;

DBKIT_FUNCTION(dbkit_folder_status) {
	if (PG_ARGISNULL(0))
		throw Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "the folder argument is null");
	Jsonb *folder = jsonb_arg(fcinfo, 0);
	Options opts = read_options(jsonb_arg(fcinfo, 1));
	ResultRows out(fcinfo);
	LoadedFolder lf = load_folder_arg(folder, /*writes=*/false, /*show_anyway=*/true);
	spi::connect();
	core::Plan plan = plan_against_database(lf, opts);
	// a non-transactional migration that stopped half-way says where; one whose run still
	// holds the deploy lock is running now, not stopped (no advice to resume a live run)
	spi::execute("SELECT tag, status, next_statement, statements, error, "
	             "coalesce(pg_catalog.to_jsonb(p) ->> 'direction', 'up') FROM dbkit.progress p");
	std::map<std::string, std::string> stopped;
	std::vector<std::tuple<std::string, std::string, std::string, std::string, std::optional<std::string>, bool>> rows;
	for (uint64_t i = 0; i < spi::rows(); ++i)
		rows.emplace_back(*spi::get_text(i, 1), *spi::get_text(i, 2), spi::get_text(i, 3).value_or("?"),
		                  spi::get_text(i, 4).value_or("?"), spi::get_text(i, 5),
		                  spi::get_text(i, 6) == std::optional<std::string>("down"));
	std::string holders = rows.empty() ? std::string() : deploy_lock_holders();
	if (!holders.empty() && core::only_settle_worker(holders))
		holders.clear();
	for (const auto &[tag, status, next, total, error, down] : rows) {
		const char *what = down ? "rollback (non-transactional down file)" : "non-transactional run";
		if (status == "running" && !holders.empty())
			stopped[tag] = fmt::format("{} running now at statement {} of {}, by {}", what, next, total,
			                           holders.substr(0, holders.find('\n')));
		else
			stopped[tag] = fmt::format("{} {} at statement {} of {}: {} ({})", what, status, next, total,
			                           error.value_or("interrupted"),
			                           down ? "dbkit rollback --resume, or dbkit forget" : "dbkit migrate --resume");
	}
	spi::finish();
	for (auto &it : plan.items)
		if (auto s = stopped.find(it.tag); s != stopped.end())
			it.note = s->second;
	// how a pending file's own BEGIN/COMMIT will be run (core/transaction_shape.hpp)
	for (auto &it : plan.items) {
		if (!it.pos || (it.state != core::State::Pending && it.state != core::State::OutOfOrder))
			continue;
		core::TxShape sh = transaction_shape_of(lf.folder.migrations[*it.pos]);
		std::string what = sh.mode == core::TxShape::Mode::Refused
		                       ? fmt::format("will be refused: statement {} {} (see dbkit check)", sh.at + 1, sh.why)
		                       : sh.summary;
		if (!what.empty())
			it.note += (it.note.empty() ? "" : "; ") + what;
	}
	for (const auto &it : plan.items) {
		Cell file = it.pos ? Cell(lf.folder.migrations[*it.pos].file) : Cell();
		out.add({int32_t(it.idx), it.tag, std::string(core::state_name(it.state)), file,
		         it.file_hash.empty() ? Cell() : Cell(it.file_hash),
		         it.applied_hash.empty() ? Cell() : Cell(it.applied_hash), int64_t(it.when),
		         it.note.empty() ? Cell() : Cell(it.note)});
	}
	return out.done();
}
