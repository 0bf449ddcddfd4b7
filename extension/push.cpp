// dbkit_diff(from, to, options): two snapshots into ordered DDL with hazards
// (core/schema_diff.hpp).
// dbkit_push(sql, options): the live database made to match a schema file, for
// development: the schema is built in the shadow, diffed against the live
// catalog, and the plan runs in the caller's transaction under the deploy lock.
// Never truncates; data loss is refused unless accepted, naming each object and
// its rows; a failing statement leaves nothing changed; a 'push' event records
// who and the plan's hash.
#include <fmt/format.h>

#include "code_side.hpp"
#include "core/schema_diff.hpp"
#include "diff_plan.hpp"
#include "deploy_lock.hpp"
#include "errcodes.hpp"
#include "history.hpp"
#include "locks.hpp"
#include "run_state.hpp"
#include "schema_engine.hpp"
#include "sha256.hpp"
#include "spi.hpp"
#include "srf.hpp"

namespace dbkit {
namespace {

core::JsonValue parse_snapshot(const std::string &text, const char *which) {
	core::JsonValue v;
	core::JsonError err;
	if (!core::parse_json(text, v, err) || v.kind != core::JsonValue::Kind::Object)
		throw Error(ERRCODE_INVALID_PARAMETER_VALUE, fmt::format("the {} snapshot is not a JSON object", which),
		            "Pass what dbkit_snapshot(), dbkit_schema_from_folder() or dbkit_schema_from_sql() return.");
	return v;
}

core::DiffResult plan(const std::string &from, const std::string &to, const EngineOptions &o, bool concurrent,
                      bool one_transaction = false) {
	core::DiffOptions d = diff_options(o, concurrent);
	d.one_transaction = one_transaction;
	core::DiffResult r = core::diff_schemas(parse_snapshot(from, "current"), parse_snapshot(to, "desired"), d);
	refuse_undecided(r, "the schema change cannot be planned on its own", "Nothing was changed. Say what was meant: ",
	                 "Nothing was changed. Write this change as a migration of your own (see detail), then run it.");
	return r;
}

std::string hazards_json(const core::DiffStatement &s) {
	std::string j = "[";
	for (const auto &h : s.hazards)
		j += (j.size() > 1 ? ", " : "") + core::json_quote(h);
	return j + "]";
}

std::optional<int64_t> row_count(const std::string &table) {
	if (table.empty())
		return std::nullopt;
	Oid rel = resolve_relation(table);
	if (rel == InvalidOid)
		return std::nullopt;
	// The name counted is the catalog's, looked up by oid and quoted by
	// PostgreSQL: no text from the plan reaches the query.
	spi::execute("SELECT n.nspname::text, c.relname::text FROM pg_catalog.pg_class c "
	             "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::pg_catalog.oid",
	             {spi::int8(static_cast<int64_t>(rel))});
	if (spi::rows() != 1)
		return std::nullopt;
	std::string name = spi::sql_ident(*spi::get_text(0, 1)) + "." + spi::sql_ident(*spi::get_text(0, 2));
	spi::execute(fmt::format("SELECT count(*) FROM {}", name).c_str());
	return spi::get_int64(0, 1);
}

}  // namespace
}  // namespace dbkit

using namespace dbkit;

DBKIT_FUNCTION(dbkit_diff) {
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		throw Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "dbkit_diff: both snapshots are required");
	EngineOptions o = read_engine_options(PG_NARGS() > 2 ? jsonb_arg(fcinfo, 2) : nullptr);
	std::string from = jsonb_text(jsonb_arg(fcinfo, 0)), to = jsonb_text(jsonb_arg(fcinfo, 1));
	ResultRows out(fcinfo);
	core::DiffResult r = plan(from, to, o, o.concurrent_indexes);
	int32_t step = 0;
	for (const auto &s : r.statements)
		out.add({++step, s.sql, s.no_transaction, s.data_loss, JsonText{hazards_json(s)}, s.object,
		         s.comment.empty() ? Cell() : Cell(s.comment)});
	return out.done();
}

DBKIT_FUNCTION(dbkit_push) {
	if (PG_ARGISNULL(0))
		throw Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "the schema SQL is null");
	std::string sql = text_arg(fcinfo, 0);
	EngineOptions o = read_engine_options(jsonb_arg(fcinfo, 1));
	ResultRows out(fcinfo);
	spi::connect();
	require_deployer("dbkit_push");
	lock_history(o.base.lock_wait_ms);  // one push or deploy at a time
	std::string live = live_snapshot();
	core::Migration m = schema_file(sql, o.name);
	std::string desired;
	{
		RunScope run;
		ShadowOptions against_live = o.shadow;  // the live prints written back onto what the file builds
		against_live.live_snapshot = live;
		desired = shadow_snapshot({&m}, against_live);
	}
	if (!declares_comments(sql))
		desired = marked_without_comments(desired);
	core::DiffResult r = plan(live, desired, o, false, true);  // one transaction: no CONCURRENTLY, no ADD VALUE

	// Data loss is named, object by object, with the rows at stake.
	std::string losses;
	std::vector<std::optional<int64_t>> rows(r.statements.size());
	for (size_t i = 0; i < r.statements.size(); ++i) {
		const auto &s = r.statements[i];
		if (!s.data_loss)
			continue;
		rows[i] = row_count(s.table_for_rowcount);
		losses += fmt::format("{}{}{}", losses.empty() ? "" : "\n", core::data_loss_text(s),
		                      rows[i] ? fmt::format(" ({} row{} in {})", *rows[i], *rows[i] == 1 ? "" : "s",
		                                            s.table_for_rowcount)
		                      : s.object.rfind("sequence:", 0) == 0 ? std::string()  // a counter, no rows
		                                                            : std::string(" (no rows counted)"));
	}
	if (!losses.empty() && !o.accept_data_loss && !o.dry_run)
		throw Error(DBKIT_STATEMENT_REFUSED, "dbkit push refuses to lose data without --accept-data-loss",
		            "Nothing was changed. Review the plan with dbkit push --dry-run, then run again with "
		            "--accept-data-loss if losing these rows is intended, or write a migration that moves the data.",
		            losses);

	std::string plan_text = core::render_plan(r);
	std::string plan_hash = sha256_hex(plan_text);
	bool apply = !o.dry_run && !r.statements.empty();
	if (apply) {
		set_local_timeouts(o.shadow.lock_timeout_ms, o.shadow.statement_timeout_ms);
		for (size_t i = 0; i < r.statements.size(); ++i) {
			const auto &s = r.statements[i];
			try {
				spi::execute_as_user(s.sql.c_str());  // as the shadow built it: under the caller's search_path
			} catch (const PgError &e) {
				ErrorData *d = e.edata();
				std::string msg = fmt::format("dbkit push, step {} of {} ({}): {}", i + 1, r.statements.size(),
				                              s.object, d->message ? d->message : "error");
				d->message = pstrdup(msg.c_str());
				d->hint = pstrdup("Nothing was changed: the whole push is one transaction. Fix the schema file, or "
				                  "run the plan as a migration (dbkit generate) to control how it runs.");
				d->internalquery = pstrdup(s.sql.c_str());
				throw;
			}
		}
		HistoryWriter w("push", "", o.reason,
		                fmt::format("{{\"plan_sha256\": {}, \"statements\": {}, \"data_loss\": {}, \"schema\": {}}}",
		                            core::json_quote(plan_hash), r.statements.size(), losses.empty() ? "false" : "true",
		                            core::json_quote(o.name)));
		(void)w;
	}
	for (size_t i = 0; i < r.statements.size(); ++i) {
		const auto &s = r.statements[i];
		out.add({int32_t(i + 1), s.sql, JsonText{hazards_json(s)}, rows[i] ? Cell(*rows[i]) : Cell(), apply,
		         plan_hash});
	}
	spi::finish();
	return out.done();
}
