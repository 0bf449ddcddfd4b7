// dbkit push --schema FILE [--dry-run] [--accept-data-loss] [--rename A=B]...:
// for development, the live database made to match a schema file. The server
// builds the schema in its shadow, diffs catalogs and applies the plan in one
// transaction under the deploy lock (dbkit_push). The plan is printed first.
#include <cstdio>

#include <fmt/format.h>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "report.hpp"
#include "rename_prompt.hpp"
#include "schema_plan.hpp"

namespace dbkit::client {

int cmd_push(const Common &c, SchemaOptions o) {
	auto sql = read_schema_file(o.schema_file, c.json);
	if (!sql)
		return kUsage;
	Session s;
	if (int rc = open_session(c, s))
		return rc;
	const std::string what = o.dry_run ? "push dry run failed" : "push failed";
	if (int rc = take_deploy_lock(c, s, o.wait_ms, what))
		return rc;
	auto call = [&](bool dry_run, ServerError &err) {
		nlohmann::json opts = engine_options(o);
		if (dry_run)
			opts["dry_run"] = true;
		s.conn->label_next_params({o.schema_file});
		return s.conn->query(fmt::format("SELECT step, statement, hazards::pg_catalog.text, rows_at_risk, applied, "
		                                 "plan_sha256 FROM {}($1, $2::pg_catalog.jsonb)",
		                                 s.fn("dbkit_push")),
		                     {*sql, s.with_lock(opts).dump()}, err);
	};
	auto fail = [&](const ServerError &err) {
		print_server_error(what, err);
		if (c.json)
			emit_json({{"ok", false}, {"error", server_error_json(err)}});
		return kFailed;
	};
	// The plan first, from a dry run: what will change, and what it risks.
	ServerError err;
	auto preview = call(true, err);
	while (!preview && !c.json && ask_renames(err, o))  // a rename answered on a terminal: plan again
		preview = call(true, err);
	if (!preview)
		return fail(err);
	std::vector<PlanStep> plan = plan_from_push(*preview);
	if (plan.empty()) {
		if (c.json)
			emit_json({{"ok", true}, {"applied", false}, {"plan", nlohmann::json::array()}});
		else
			fmt::print("dbkit push: the database already matches {}\n", o.schema_file);
		return kOk;
	}
	if (!c.json) {
		fmt::print("dbkit push: {} statement{} make the database match {}:\n", plan.size(),
		           plan.size() == 1 ? "" : "s", o.schema_file);
		print_plan(plan);
	}
	if (o.dry_run) {
		if (c.json)
			emit_json({{"ok", true}, {"applied", false}, {"plan", plan_json(plan)},
			           {"plan_sha256", preview->get(0, 5)}});
		else
			fmt::print("dbkit push: dry run, nothing was changed\n");
		return kOk;
	}
	auto done = call(false, err);
	if (!done)
		return fail(err);
	std::vector<PlanStep> applied = plan_from_push(*done);
	std::string hash = applied.empty() ? "" : done->get(0, 5);
	if (c.json) {
		emit_json({{"ok", true}, {"applied", true}, {"plan", plan_json(applied)}, {"plan_sha256", hash}});
		return kOk;
	}
	if (!applied.empty() && hash != preview->get(0, 5)) {  // the database changed in between: say what ran
		fmt::print("dbkit push: the database changed since the plan above; this ran instead:\n");
		print_plan(applied);
	}
	fmt::print("dbkit push: applied {} statement{} in one transaction (plan sha256 {})\n", applied.size(),
	           applied.size() == 1 ? "" : "s", hash.substr(0, 12));
	return kOk;
}

}  // namespace dbkit::client
