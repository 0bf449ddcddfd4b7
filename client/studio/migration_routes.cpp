// dbkit studio: the migrations timeline (the history and the folder) and one migration's detail.
#include <httplib.h>
#include <fmt/format.h>

#include "studio.hpp"
#include "core/json.hpp"

namespace dbkit::client::studio {

namespace {

using nlohmann::json;

// Each timeline row is an array in this order (10,000 objects with their keys
// repeated cost twice the bytes to send and parse).
constexpr const char *kColumns =
    R"(["idx","tag","state","file","note","applied_at","applied_by","duration_ms","statements","how"])";

// PostgreSQL writes the rows' JSON itself (json_agg): faster than building them here.
std::string history_sql(const Context &ctx) {
	return fmt::format(
	    "SELECT pg_catalog.count(*), pg_catalog.json_agg(pg_catalog.json_build_array(h.idx, h.tag, "
	    "'applied'::pg_catalog.text, NULL::pg_catalog.text, NULL::pg_catalog.text, h.applied_at::pg_catalog.text, "
	    "h.applied_by, h.duration_ms, h.statements, h.how) ORDER BY h.ordinality)::pg_catalog.text "
	    "FROM {}() WITH ORDINALITY AS h",
	    ctx.fn("dbkit_status"));
}

std::string folder_sql(const Context &ctx) {
	return fmt::format(
	    "WITH h AS MATERIALIZED (SELECT * FROM {0}()) "
	    "SELECT (SELECT pg_catalog.count(*) FROM h), pg_catalog.json_agg(pg_catalog.json_build_array(f.idx, f.tag, "
	    "f.state, f.file, f.note, h.applied_at::pg_catalog.text, h.applied_by, h.duration_ms, h.statements, h.how) "
	    "ORDER BY f.ordinality)::pg_catalog.text "
	    "FROM {0}($1::pg_catalog.jsonb) WITH ORDINALITY AS f LEFT JOIN h ON h.tag OPERATOR(pg_catalog.=) f.tag",
	    ctx.fn("dbkit_status"));
}

std::string dump(const json &j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// A non-transactional migration stopped half-way (a role without SELECT on dbkit.progress sees none).
json progress_rows(Connection &c) {
	ServerError err;
	auto p = c.query("SELECT tag, status, next_statement, statements, error, updated_at::pg_catalog.text, started_by "
	                 "FROM dbkit.progress ORDER BY started_at",
	                 {}, err);
	json progress = json::array();
	if (p)
		for (int i = 0; i < p->rows(); ++i)
			progress.push_back({{"tag", p->get(i, 0)}, {"status", p->get(i, 1)}, {"next_statement", num_or_null(*p, i, 2)},
			                    {"statements", num_or_null(*p, i, 3)}, {"error", str_or_null(*p, i, 4)},
			                    {"updated_at", str_or_null(*p, i, 5)}, {"started_by", str_or_null(*p, i, 6)}});
	return progress;
}

void migrations(Context &ctx, const httplib::Request &, httplib::Response &res) {
	auto c = ctx.meta->acquire();
	ServerError err;
	std::string why;
	auto folder = read_folder_cached(ctx, false, why);
	// Everything this answer reads is as of the statement's snapshot. While the
	// snapshot stays the same (no transaction committed or started writing since,
	// in any database of the cluster) and so does the folder, so does the answer:
	// the last one is sent again. A snapshot taken before the answer's own is safe:
	// if anything commits in between, no later snapshot equals this key.
	std::string key;
	if (auto k = c->query("SELECT pg_catalog.pg_current_snapshot()::pg_catalog.text, "
	                      "pg_catalog.current_setting('TimeZone')",
	                      {}, err)) {
		key = fmt::format("{}|{}|{}", k->get(0, 0), k->get(0, 1), folder ? folder->generation : 0);
		std::lock_guard<std::mutex> g(ctx.migrations_answer.mu);
		if (ctx.migrations_answer.key == key) {
			res.status = 200;
			return res.set_content(ctx.migrations_answer.body, "application/json; charset=utf-8");
		}
	} else if (err.connection_lost) {
		c.broken = true;
		return send_json(res, {{"ok", false}, {"error", error_json(err)}}, 500);
	}

	std::string rows, folder_error;
	long history_count = 0;
	if (folder) {
		auto f = c->query(folder_sql(ctx), {folder->text}, err);
		// the folder's warnings (`dbkit check` lists them) would pile up in the connection; a file
		// the journal names but the folder lacks is shown as the folder's error (its migration,
		// if applied, is listed as missing)
		for (const auto &n : c->take_notices())
			if (folder_error.empty() && n.detail == "dbkit finding journal.file_missing")
				folder_error = dump({{"message", n.message}, {"hint", n.hint}});
		if (!f) {
			c.broken = err.connection_lost;
			folder_error = dump(error_json(err));
		} else if (!f->null(0, 1)) {
			history_count = std::stol(f->get(0, 0));
			rows = f->get(0, 1);
		}
	} else if (!why.empty()) {
		folder_error = dump({{"message", why}});
	}
	if (rows.empty()) {  // no folder, an empty one, or one dbkit refused: the history alone
		auto h = c->query(history_sql(ctx), {}, err);
		if (!h) {
			c.broken = err.connection_lost;
			return send_json(res, {{"ok", false}, {"error", error_json(err)}}, 500);
		}
		history_count = std::stol(h->get(0, 0));
		rows = h->null(0, 1) ? "[]" : h->get(0, 1);
	}
	std::string body = "{\"ok\":true,\"dir\":";
	core::append_json_quoted(body, ctx.opt.dir);
	body += fmt::format(",\"history_count\":{},\"columns\":{},\"progress\":{}", history_count, kColumns,
	                    dump(progress_rows(*c)));
	if (!folder_error.empty())
		body += ",\"folder_error\":" + folder_error;
	body += ",\"migrations\":" + rows + "}";
	if (!key.empty() && folder_error.empty()) {
		std::lock_guard<std::mutex> g(ctx.migrations_answer.mu);
		ctx.migrations_answer.key = key;
		ctx.migrations_answer.body = body;
	}
	res.status = 200;
	res.set_content(std::move(body), "application/json; charset=utf-8");
}

void migration(Context &ctx, const httplib::Request &req, httplib::Response &res) {
	std::string tag = req.get_param_value("tag");
	if (tag.empty())
		return send_error(res, 400, "tag is missing", "GET /api/migration?tag=0000_name");
	auto c = ctx.meta->acquire();
	ServerError err;
	json out = {{"ok", true}, {"tag", tag}};
	auto ev = c->query("SELECT id, at::pg_catalog.text, actor, action, reason, client, detail::pg_catalog.text "
	                   "FROM dbkit.events WHERE tag OPERATOR(pg_catalog.=) $1 ORDER BY id",
	                   {tag}, err);
	json events = json::array();
	if (ev)
		for (int i = 0; i < ev->rows(); ++i)
			events.push_back({{"id", ev->get(i, 0)}, {"at", ev->get(i, 1)}, {"actor", ev->get(i, 2)},
			                  {"action", ev->get(i, 3)}, {"reason", str_or_null(*ev, i, 4)},
			                  {"client", str_or_null(*ev, i, 5)}, {"detail", parsed_or_null(*ev, i, 6)}});
	out["events"] = std::move(events);
	auto p = c->query("SELECT status, next_statement, statements, error, started_at::pg_catalog.text, "
	                  "updated_at::pg_catalog.text, started_by FROM dbkit.progress WHERE tag OPERATOR(pg_catalog.=) $1",
	                  {tag}, err);
	if (p && p->rows())
		out["progress"] = {{"status", p->get(0, 0)}, {"next_statement", num_or_null(*p, 0, 1)},
		                   {"statements", num_or_null(*p, 0, 2)}, {"error", str_or_null(*p, 0, 3)},
		                   {"started_at", p->get(0, 4)}, {"updated_at", p->get(0, 5)}, {"started_by", p->get(0, 6)}};
	std::string why;
	if (auto folder = read_folder_cached(ctx, false, why)) {
		const json &files = folder->payload["files"];
		auto f = files.find(tag + ".sql");
		if (f != files.end())
			out["sql"] = *f;
		else
			out["sql_missing"] = fmt::format("{}.sql is not in {}", tag, ctx.opt.dir);
	} else {
		out["sql_missing"] = why.empty() ? "no migrations folder given (--dir)" : why;
	}
	send_json(res, out);
}

template <class F>
httplib::Server::Handler handler(Context &ctx, F f) {
	return [&ctx, f](const httplib::Request &req, httplib::Response &res) { f(ctx, req, res); };
}

}  // namespace

void add_migration_routes(httplib::Server &srv, Context &ctx) {
	srv.Get("/api/migrations", handler(ctx, migrations));
	srv.Get("/api/migration", handler(ctx, migration));
}

}  // namespace dbkit::client::studio
