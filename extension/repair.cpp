// History repair: dbkit._repair(action, folder, tag, reason, options).
//   mark-applied   the change was made by hand: record the migration without running it
//   baseline       the database is already at TAG: record it and everything before it
//   forget         drop a history row after a manual rollback
//   accept-change  re-record the hash of an applied file that was edited on purpose
// Each takes dbkit's deploy lock, is recorded in dbkit.events with who, when and why,
// and keeps drizzle's table in step.
#include <fmt/format.h>

#include "core/json.hpp"
#include "errcodes.hpp"
#include "db_plan.hpp"
#include "folder_arg.hpp"
#include "history.hpp"
#include "run_state.hpp"
#include "reference_store.hpp"
#include "spi.hpp"
#include "srf.hpp"

using namespace dbkit;

namespace {

const core::PlanItem *find_item(const core::Plan &plan, const std::string &tag) {
	for (const auto &it : plan.items)
		if (it.tag == tag)
			return &it;
	return nullptr;
}

[[noreturn]] void not_in_folder(const std::string &tag) {
	throw Error(DBKIT_REPAIR_REFUSED, fmt::format("migration {} is not in the folder", tag),
	            "Give the tag as the journal names it (dbkit status --dir DIR lists them).");
}

std::string detail_json(std::initializer_list<std::pair<const char *, std::string>> kv) {
	std::string j = "{";
	for (const auto &[k, v] : kv)
		j += fmt::format("{}{}: {}", j.size() > 1 ? ", " : "", core::json_quote(k), core::json_quote(v));
	return j + "}";
}

}  // namespace

DBKIT_FUNCTION(dbkit_repair) {
	std::string action = text_arg(fcinfo, 0);
	std::string tag = text_arg(fcinfo, 2);
	std::string reason = text_arg(fcinfo, 3);
	Options opts = read_options(jsonb_arg(fcinfo, 4));
	if (action != "mark-applied" && action != "baseline" && action != "forget" && action != "accept-change")
		throw Error(DBKIT_REPAIR_REFUSED, fmt::format("unknown repair action \"{}\"", action));
	if (tag.empty())
		throw Error(DBKIT_REPAIR_REFUSED, fmt::format("{}: a migration tag is required", action));
	if (reason.empty() && action != "baseline")
		throw Error(DBKIT_REPAIR_REFUSED, fmt::format("{} {}: a reason is required", action, tag),
		            "Say why, for the history: --reason \"applied by hand during incident 42\".");
	if (IsolationUsesXactSnapshot())
		throw Error(ERRCODE_ACTIVE_SQL_TRANSACTION, "history repair must run in a READ COMMITTED transaction");
	bool needs_folder = action != "forget";
	if (needs_folder && PG_ARGISNULL(1))
		throw Error(DBKIT_REPAIR_REFUSED, fmt::format("{} needs the migrations folder", action));

	ResultRows out(fcinfo);
	LoadedFolder lf;
	if (needs_folder)
		lf = load_folder_arg(jsonb_arg(fcinfo, 1));
	RunScope run;
	spi::connect();
	require_deployer(("dbkit " + action).c_str());
	lock_history(opts.lock_wait_ms);
	std::optional<std::string> carried = drift_before_run();
	if (carried)
		warn({core::Severity::Warning, "drift.carried", "",
		      "the schema had changed outside the migrations since the last run (see dbkit drift); the reference "
		      "recorded after this repair keeps reporting those changes",
		      "Review SELECT * FROM dbkit.ddl_audit ORDER BY id DESC for who changed what, then run dbkit "
		      "accept-drift --reason TEXT if the change is meant to stay."});
	std::optional<DrizzleTable> dz;
	if (opts.drizzle_sync)
		dz.emplace(opts);
	core::Plan plan = plan_against_database(lf, opts, dz ? &*dz : nullptr);
	const auto &migs = lf.folder.migrations;

	if (action == "forget") {
		spi::execute("DELETE FROM dbkit.migrations WHERE tag = $1 RETURNING hash, created_at, idx", {spi::text(tag)});
		if (spi::rows() == 0)
			throw Error(DBKIT_REPAIR_REFUSED, fmt::format("migration {} is not in the history", tag),
			            "SELECT tag FROM dbkit_status() lists the recorded migrations.");
		std::string hash = *spi::get_text(0, 1);
		std::optional<int64_t> when = spi::get_int64(0, 2);
		int64_t idx = spi::get_int64(0, 3).value_or(0);
		HistoryWriter w("forget", tag, reason, detail_json({{"hash", hash}}));
		// a rollback whose non-transactional down file stopped half-way and was finished by hand
		spi::execute("DELETE FROM dbkit.progress WHERE tag = $1", {spi::text(tag)});
		if (dz && dz->exists())
			dz->remove(hash, when);
		store_reference(w.run_id(), tag, &opts, carried);
		out.add({tag, int32_t(idx), std::string("forgotten"), hash});
	} else if (action == "accept-change") {
		const core::PlanItem *it = find_item(plan, tag);
		if (!it || !it->pos)
			not_in_folder(tag);
		if (it->state != core::State::Modified)
			throw Error(DBKIT_REPAIR_REFUSED,
			            fmt::format("migration {} is {}, not modified: there is no change to accept", tag,
			                        core::state_name(it->state)));
		const core::Migration &m = migs[*it->pos];
		HistoryWriter w("accept-change", tag, reason,
		                detail_json({{"old_hash", it->applied_hash}, {"new_hash", it->file_hash}}));
		spi::execute("UPDATE dbkit.migrations SET hash = $2 WHERE tag = $1", {spi::text(tag), spi::text(it->file_hash)});
		bool in_history = spi::rows() > 0;
		if (dz && dz->exists())
			dz->rehash(it->applied_hash, it->file_hash, m.when, m.tag);
		if (!in_history)  // drizzle applied the old version: adopt it with the new hash
			w.record({m.tag, m.idx, it->file_hash, m.when, 0.0, 0, "adopted", lf.down_hashes[*it->pos]});
		store_reference(w.run_id(), tag, &opts, carried);
		out.add({tag, int32_t(m.idx), std::string("accepted"), it->file_hash});
	} else {
		const core::PlanItem *target = find_item(plan, tag);
		if (!target || !target->pos)
			not_in_folder(tag);
		bool baseline = action == "baseline";
		std::vector<const core::PlanItem *> todo;
		for (const auto &it : plan.items) {
			if (!it.pos || (baseline ? *it.pos > *target->pos : &it != target))
				continue;
			if (it.state == core::State::Modified)
				throw Error(DBKIT_REPAIR_REFUSED,
				            fmt::format("migration {} was modified after it was applied; resolve that first", it.tag),
				            fmt::format("dbkit accept-change {} --reason \"...\", or restore the file.", it.tag));
			if (it.state == core::State::Applied) {
				if (!baseline)
					throw Error(DBKIT_REPAIR_REFUSED, fmt::format("migration {} is already applied", tag),
					            "Nothing to record; dbkit status --dir DIR shows every migration's state.");
				continue;
			}
			todo.push_back(&it);
		}
		HistoryWriter w(action.c_str(), tag, reason.empty() ? "baseline" : reason, "{}");
		// a non-transactional migration that stopped half-way is resolved by recording it
		spi::execute("DELETE FROM dbkit.progress WHERE tag = $1", {spi::text(tag)});
		if (dz && !todo.empty())
			dz->ensure(lf.folder.layout == core::Folder::Layout::Folders);
		for (const auto *it : todo) {
			const core::Migration &m = migs[*it->pos];
			w.record({m.tag, m.idx, it->file_hash, m.when, 0.0, 0, baseline ? "baseline" : "marked",
			          lf.down_hashes[*it->pos]});
			if (dz && it->state != core::State::Adopt)
				dz->insert(it->file_hash, m.when, m.tag);
			out.add({m.tag, int32_t(m.idx), std::string(baseline ? "baselined" : "marked"), it->file_hash});
		}
		store_reference(w.run_id(), tag, &opts, carried);
	}
	spi::finish();
	return out.done();
}
