// The schema engine's SQL functions: a desired schema built by PostgreSQL in the
// shadow (shadow.hpp) from a folder's migrations or a SQL file, read with the
// same catalog reader as the live schema.
//   dbkit_schema_from_folder(folder, options)  what the folder's migrations build
//   dbkit_schema_from_sql(sql, options)        what a schema file builds
#include <optional>
#include <string>

#include <fmt/format.h>

#include "core/json.hpp"
#include "errcodes.hpp"
#include "folder_arg.hpp"
#include "parse.hpp"
#include "run_state.hpp"
#include "schema_engine.hpp"
#include "shadow.hpp"
#include "spi.hpp"

namespace dbkit {

std::string jsonb_text(Jsonb *j) {
	if (!j)
		return "{}";
	char *s = PgCall([&]() noexcept { return JsonbToCString(nullptr, &j->root, VARSIZE(j)); });
	return s;
}

EngineOptions read_engine_options(Jsonb *options) {
	EngineOptions o;
	static const std::vector<std::string_view> own = {"through", "name", "dry_run", "accept_data_loss",
	                                                    "drop_and_add", "renames", "reason",
	                                                    "concurrent_indexes", "keep_undeclared"};
	Options base = read_options(options, nullptr, own);
	o.shadow.lock_timeout_ms = base.lock_timeout_ms;
	o.shadow.statement_timeout_ms = base.statement_timeout_ms;
	o.base = base;
	core::JsonValue v;
	core::JsonError err;
	if (!options || !core::parse_json(jsonb_text(options), v, err) || v.kind != core::JsonValue::Kind::Object)
		return o;
	auto str = [&](const char *key) -> std::optional<std::string> {
		const core::JsonValue *m = v.find(key);
		if (!m || m->kind == core::JsonValue::Kind::Null)
			return std::nullopt;
		if (m->kind != core::JsonValue::Kind::String)
			throw Error(ERRCODE_INVALID_PARAMETER_VALUE, fmt::format("option \"{}\" must be a string", key));
		return m->string;
	};
	auto flag = [&](const char *key) {
		const core::JsonValue *m = v.find(key);
		return m && m->kind == core::JsonValue::Kind::Bool && m->boolean;
	};
	o.through = str("through").value_or("");
	o.name = str("name").value_or(o.name);
	o.dry_run = flag("dry_run");
	o.accept_data_loss = flag("accept_data_loss");
	o.drop_and_add = flag("drop_and_add");
	o.keep_undeclared = flag("keep_undeclared");
	if (const core::JsonValue *c = v.find("concurrent_indexes"); c && c->kind == core::JsonValue::Kind::Bool)
		o.concurrent_indexes = c->boolean;
	o.reason = str("reason").value_or("");
	if (const core::JsonValue *r = v.find("renames"); r && r->kind == core::JsonValue::Kind::Array)
		for (const auto &item : r->items)
			if (item.kind == core::JsonValue::Kind::String)
				o.renames.push_back(item.string);
	return o;
}

std::vector<const core::Migration *> migrations_through(const LoadedFolder &lf, const std::string &through) {
	std::vector<const core::Migration *> out;
	for (const auto &m : lf.folder.migrations) {
		out.push_back(&m);
		if (!through.empty() && m.tag == through)
			return out;
	}
	if (!through.empty())
		throw Error(DBKIT_FOLDER_INVALID, fmt::format("the folder has no migration \"{}\"", through),
		            "Name a tag from meta/_journal.json (or a migration folder's name).");
	return out;
}

bool declares_comments(std::string_view sql) {
	for (const Statement &s : parse_statements(sql, true))
		if (s.command == "COMMENT")
			return true;
	return false;
}

std::string marked_without_comments(const std::string &snapshot) {
	spi::execute("SELECT pg_catalog.jsonb_set($1::pg_catalog.jsonb, '{dbkit:format,comments}', 'false')::text",
	             {spi::text(snapshot)});
	return *spi::get_text(0, 1);
}

Datum jsonb_datum(const std::string &text) {
	const char *p = text.c_str();
	return PgCall([&]() noexcept { return DirectFunctionCall1(jsonb_in, CStringGetDatum(p)); });
}

}  // namespace dbkit

using namespace dbkit;

DBKIT_FUNCTION(dbkit_schema_from_folder) {
	if (PG_ARGISNULL(0))
		throw Error(DBKIT_FOLDER_INVALID, "the folder argument is null");
	EngineOptions o = read_engine_options(jsonb_arg(fcinfo, 1));
	LoadedFolder lf = load_folder_arg(jsonb_arg(fcinfo, 0), /*writes=*/false);
	RunScope run;  // the shadow's DDL is dbkit's own: never audited
	spi::connect();
	std::string snap = shadow_snapshot(migrations_through(lf, o.through), o.shadow);
	spi::finish();
	return jsonb_datum(snap);
}

DBKIT_FUNCTION(dbkit_schema_from_sql) {
	if (PG_ARGISNULL(0))
		throw Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "the schema SQL is null");
	std::string sql = text_arg(fcinfo, 0);
	EngineOptions o = read_engine_options(jsonb_arg(fcinfo, 1));
	core::Migration m = schema_file(sql, o.name);
	RunScope run;
	spi::connect();
	std::string snap = shadow_snapshot({&m}, o.shadow);
	if (!declares_comments(sql))
		snap = marked_without_comments(snap);
	spi::finish();
	return jsonb_datum(snap);
}
