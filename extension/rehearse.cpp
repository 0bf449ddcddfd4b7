// dbkit_rehearse(folder, options): a rollback that has never run is a guess. For
// each pending migration: up, down, up, inside a subtransaction that is always
// rolled back; after the down the schema must be what it was before the up, and
// the second up must build what the first built (compared as the schema engine
// compares: dbkit.snapshot() without owners, privileges and column positions; owners and
// privileges the down file leaves are noted on the result).
// dbkit_reverse(folder, tag, options): the down file the engine computes for a
// migration, from the schema after it to the schema before it, with what it
// cannot restore (data a drop lost, data changes) listed instead of guessed.
#include <deque>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "code_side.hpp"
#include "core/code_drift.hpp"
#include "core/drift_describe.hpp"
#include "core/markers.hpp"
#include "core/schema_diff.hpp"
#include "core/text.hpp"
#include "db_plan.hpp"
#include "diff_plan.hpp"
#include "deploy_lock.hpp"
#include "errcodes.hpp"
#include "execute.hpp"
#include "history.hpp"
#include "locks.hpp"
#include "own_renames.hpp"
#include "run_state.hpp"
#include "schema_engine.hpp"
#include "shadow.hpp"
#include "spi.hpp"
#include "srf.hpp"
#include "subxact.hpp"

namespace dbkit {
namespace {

// "column public.t.c: added" lines, the first `max` of them.
std::string differences(const std::map<std::string, std::string> &expected,
                        const std::map<std::string, std::string> &actual, size_t max = 10) {
	std::set<std::string> keys;
	for (const auto *m : {&expected, &actual})
		for (const auto &[k, v] : *m)
			keys.insert(k);
	std::string out;
	size_t n = 0;
	for (const auto &k : keys) {
		auto e = expected.find(k), a = actual.find(k);
		std::optional<std::string> ev = e == expected.end() ? std::nullopt : std::optional<std::string>(e->second);
		std::optional<std::string> av = a == actual.end() ? std::nullopt : std::optional<std::string>(a->second);
		if (ev == av)
			continue;
		if (n++ < max) {
			core::DriftItem d = core::describe_drift(k, ev, av);
			std::string what = !ev ? d.kind + " " + d.name + " is left behind"
			                 : !av ? d.kind + " " + d.name + " is missing"
			                       : d.detail;
			out += (out.empty() ? "" : "; ") + what;
		}
	}
	if (n > max)
		out += fmt::format("; and {} more", n - max);
	return out;
}

core::Migration down_of(const core::Migration &m) {
	core::Migration d;
	d.idx = m.idx;
	d.tag = m.tag;
	d.when = m.when;
	d.breakpoints = m.breakpoints;
	d.file = m.down_file;
	d.sql = *m.down_sql;
	return d;
}

}  // namespace
}  // namespace dbkit

using namespace dbkit;

namespace {
// A snapshot with owners and privileges: everything but column positions (a column a down
// file drops and its up adds again comes back last) and the reprint notes.
std::map<std::string, std::string> exact(const std::string &snapshot) {
	spi::execute("SELECT key, (value - '{position,reprinted}'::text[])::text FROM pg_catalog.jsonb_each($1::pg_catalog.jsonb) "
	             "WHERE key <> 'dbkit:format'",
	             {spi::text(snapshot)});
	std::map<std::string, std::string> out;
	for (uint64_t i = 0; i < spi::rows(); ++i)
		out.emplace(*spi::get_text(i, 1), *spi::get_text(i, 2));
	return out;
}
}  // namespace

DBKIT_FUNCTION(dbkit_rehearse) {
	if (PG_ARGISNULL(0))
		throw Error(DBKIT_FOLDER_INVALID, "the folder argument is null");
	EngineOptions o = read_engine_options(jsonb_arg(fcinfo, 1));
	ResultRows out(fcinfo);
	LoadedFolder lf = load_folder_arg(jsonb_arg(fcinfo, 0));
	RunScope run;
	spi::connect();
	require_deployer("dbkit_rehearse");
	lock_history(o.base.lock_wait_ms);
	core::Plan plan = plan_against_database(lf, o.base);
	if (!plan.refusals.empty())
		refuse_plan(plan.refusals);
	// A migration that cannot be rehearsed (no down file, irreversible, a wrong down file)
	// still has its up run, so that the migrations after it are rehearsed on the schema
	// they will meet; only an up that fails stops the rehearsal (what follows depends on it).
	std::string stopped;
	Subxact sx;  // everything is rolled back
	std::exception_ptr failed;
	try {
		set_local_timeouts(o.shadow.lock_timeout_ms, o.shadow.statement_timeout_ms);
		for (const auto &it : plan.items) {
			if (!plan.runs(it))
				continue;
			const core::Migration &m = lf.folder.migrations[*it.pos];
			auto row = [&](const char *result, const std::string &detail) {
				out.add({m.tag, std::string(result), detail.empty() ? Cell() : Cell(detail)});
			};
			if (!stopped.empty()) {
				row("not rehearsed", stopped);
				continue;
			}
			std::vector<PlannedStatement> up_stmts = plan_statements(m);
			// A non-transactional file is rehearsed by its schema effect, as the shadow builds
			// it: CONCURRENTLY removed, VACUUM and the like left out, inside the rolled-back
			// transaction. What CONCURRENTLY itself does (no lock, an invalid index on
			// failure) is not rehearsed.
			std::deque<std::string> texts;
			std::string adapted;
			if (is_non_transactional(m, up_stmts)) {
				up_stmts = in_transaction_equivalent(up_stmts, texts);
				adapted = m.file;
			}
			// Its up alone, kept for what follows; the error when it fails.
			auto up_only = [&]() -> std::optional<std::string> {
				Subxact own;
				try {
					run_statements(m, up_stmts);
					own.commit();
					return std::nullopt;
				} catch (const PgError &e) {
					std::string msg = e.edata()->message ? e.edata()->message : "error";
					own.rollback();
					return msg;
				}
			};
			auto not_proven = [&](const char *result, const std::string &detail) {
				if (std::optional<std::string> err = up_only()) {
					row("failed", fmt::format("{} (running its up; its down file is not rehearsed: {})", *err, detail));
					stopped = fmt::format("it comes after {}, which failed", m.tag);
				} else {
					row(result, detail);
				}
			};
			if (!m.down_sql) {
				not_proven("no down file", fmt::format("write {} (dbkit down {} --write computes one)",
				                                       m.down_file.empty() ? m.tag + ".down.sql" : m.down_file, m.tag));
				continue;
			}
			if (core::read_markers(*m.down_sql).irreversible) {
				not_proven("irreversible", m.down_file + " is marked -- dbkit:irreversible");
				continue;
			}
			core::Migration down = down_of(m);
			std::vector<PlannedStatement> down_stmts = plan_statements(down);
			if (is_non_transactional(down, down_stmts)) {
				down_stmts = in_transaction_equivalent(down_stmts, texts);
				adapted += (adapted.empty() ? "" : " and ") + down.file;
			}
			// wrong: its up, alone, goes on for the migrations after it
			auto go_on = [&]() {
				if (up_only())
					stopped = fmt::format("it comes after {}, which failed", m.tag);
			};
			Subxact own;
			const char *phase = nullptr;  // where an error came from, once the up has run
			bool after_failure = false;   // the up ran, then something failed: go on after the catch
			try {
				std::string before_text = live_snapshot();
				auto before = comparable(before_text);
				run_statements(m, up_stmts);
				phase = "running the down file";
				auto after_up = comparable(live_snapshot());
				run_statements(down, down_stmts);
				phase = "running the up again after the down file";
				std::string after_down_text = live_snapshot();
				auto after_down = comparable(after_down_text);
				std::string wrong = differences(before, after_down);
				// owners and privileges the up changed and the down file leaves: said (an
				// attack: a down file leaving the up's GRANT and OWNER TO passed silently), not
				// "wrong", as the schema engine leaves them to the environment (a computed down
				// file does not REVOKE)
				std::string left = wrong.empty() ? differences(exact(before_text), exact(after_down_text)) : "";
				if (!wrong.empty()) {
					row("wrong", fmt::format("after {} the schema is not what it was before {}: {}", m.down_file,
					                         m.file, wrong));
					own.rollback();
					go_on();
					continue;
				}
				run_statements(m, up_stmts);
				std::string again = differences(after_up, comparable(live_snapshot()));
				if (!again.empty()) {
					row("wrong", fmt::format("{} after {} does not build what it built the first time: {}", m.file,
					                         m.down_file, again));
					own.rollback();
					go_on();
					continue;
				}
				own.commit();  // its up stays for the migrations after it
				row("ok", fmt::format("up, down, up: {} statements, {} statements, schema equal at each step{}",
				                      up_stmts.size(), down_stmts.size(),
				                      adapted.empty() ? ""
				                                      : " (" + adapted + " rehearsed inside the transaction, "
				                                                         "without CONCURRENTLY)") +
				                      (left.empty() ? "" : fmt::format("; owners or privileges {} changes are left by {}: {}",
				                                                        m.file, m.down_file, left)));
			} catch (const PgError &e) {
				std::string msg = e.edata()->message ? e.edata()->message : "error";
				own.rollback();
				row("failed", phase ? fmt::format("{} ({})", msg, phase) : msg);
				after_failure = phase != nullptr;
				if (!after_failure)
					stopped = fmt::format("it comes after {}, which failed", m.tag);
			}
			if (after_failure)
				go_on();  // the up itself ran: what follows can still be rehearsed (not from inside the catch)
		}
	} catch (...) {
		failed = std::current_exception();
	}
	sx.rollback();
	if (failed)
		std::rethrow_exception(failed);
	spi::finish();
	return out.done();
}

namespace {
// Two --rename sources naming the same object: the last part compared without its
// quotes (an enum value may be written sad or 'sad', a column users or "users").
bool same_source(const std::string &a, const std::string &b) {
	auto parts = [](const std::string &s) {
		std::vector<std::string> p = core::split_qualified(s);
		std::string &last = p.back();
		if (last.size() >= 2 && (last.front() == '\'' || last.front() == '"') && last.back() == last.front())
			last = last.substr(1, last.size() - 2);
		return p;
	};
	return parts(a) == parts(b);
}
}  // namespace

DBKIT_FUNCTION(dbkit_reverse) {
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		throw Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "dbkit_reverse: the folder and the tag are required");
	std::string tag = text_arg(fcinfo, 1);
	EngineOptions o = read_engine_options(jsonb_arg(fcinfo, 2));
	ResultRows out(fcinfo);
	LoadedFolder lf = load_folder_arg(jsonb_arg(fcinfo, 0));
	std::vector<const core::Migration *> before, after;
	const core::Migration *m = nullptr;
	for (const auto &x : lf.folder.migrations) {
		after.push_back(&x);
		if (x.tag == tag) {
			m = &x;
			break;
		}
		before.push_back(&x);
	}
	if (!m)
		throw Error(DBKIT_FOLDER_INVALID, fmt::format("the folder has no migration \"{}\"", tag),
		            "Name a tag from meta/_journal.json (or a migration folder's name).");
	spi::connect();
	std::string s_before, s_after;
	{
		RunScope run;
		s_before = shadow_snapshot(before, o.shadow);
		s_after = shadow_snapshot(after, o.shadow);
	}
	core::JsonValue jb, ja;
	core::JsonError err;
	core::parse_json(s_before, jb, err);
	core::parse_json(s_after, ja, err);
	std::set<std::string> maybe_there_before;  // DROP EXTENSION statements to be read twice
	{
		// an extension the migration created is not in the schema before it, even where the
		// shadow found it installed (unless an earlier migration created it too)
		std::set<std::string> earlier;
		for (const auto *b : before)
			for (auto &e : created_extensions(*b))
				earlier.insert(e.name);
		for (auto &e : created_extensions(*m)) {
			if (earlier.count(e.name))
				continue;
			std::string key =
			    "extension:" + std::string(PgCall([&e]() noexcept { return quote_identifier(e.name.c_str()); }));
			if (e.if_not_exists)
				maybe_there_before.insert("DROP EXTENSION " + key.substr(10));
			jb.members.erase(std::remove_if(jb.members.begin(), jb.members.end(),
			                                [&](const auto &kv) { return kv.first == key; }),
			                 jb.members.end());
		}
	}
	core::DiffOptions d = diff_options(o, false);  // a down file runs in the rollback's transaction
	const std::vector<core::Rename> declared = d.renames;
	// what the migration renamed itself is renamed back, unless --rename says otherwise
	OwnRenames own = own_renames(*m, jb, ja);
	for (auto it = own.back.rbegin(); it != own.back.rend(); ++it)  // the last rename undone first
		if (std::none_of(declared.begin(), declared.end(), [&](const core::Rename &r) { return same_source(r.from, it->from); }))
			d.renames.push_back(*it);
	core::DiffResult back = core::diff_schemas(ja, jb, d);
	refuse_undecided(back, fmt::format("the reverse of {} cannot be computed on its own", tag),
	                 "Say what the migration did (a rename is renamed back): ",
	                 fmt::format("Write the down file of {} by hand (see detail).", tag));
	// What the down file cannot give back: data the migration dropped, and data it changed.
	core::DiffOptions fwd_opts;
	fwd_opts.concurrent_indexes = false;
	fwd_opts.drop_and_add = true;
	for (const auto &r : declared)  // the forward direction of a rename hint
		fwd_opts.renames.push_back(r);
	for (const auto &r : own.forward)
		fwd_opts.renames.push_back(r);
	core::DiffResult fwd = core::diff_schemas(jb, ja, fwd_opts);
	for (const auto &s : fwd.statements)
		if (s.data_loss)
			out.add({std::string("irreversible"), Cell(), s.sql,
			         fmt::format("{}: the rows it held cannot be restored by a down file",
			                     core::data_loss_text(s))});
	for (const auto &s : plan_statements(*m))
		if (s.command == "INSERT" || s.command == "UPDATE" || s.command == "DELETE" || s.command == "TRUNCATE TABLE" ||
		    s.command == "MERGE" || s.command == "COPY")
			out.add({std::string("irreversible"), Cell(int32_t(s.number)), std::string(s.text),
			         fmt::format("statement {} (line {}) changes data ({}): a down file cannot know what it was",
			                     s.number, core::line_at(m->sql, s.file_offset), s.command)});
	int32_t step = 0;
	for (const auto &s : back.statements) {
		std::string note;
		for (const auto &h : s.hazards)
			note += (note.empty() ? "" : "; ") + h;
		if (maybe_there_before.count(s.sql))
			note += std::string(note.empty() ? "" : "; ") +
			        "the migration runs CREATE EXTENSION IF NOT EXISTS: if the extension was installed before it ran "
			        "(by the platform or by hand), delete this statement";
		out.add({std::string("statement"), Cell(++step), s.sql, note.empty() ? Cell() : Cell(note)});
	}
	spi::finish();
	return out.done();
}
