// dbkit studio: the views over dbkit's own SQL functions (migrations, drift, schema).
#include <algorithm>
#include <filesystem>
#include <map>

#include <httplib.h>
#include <fmt/format.h>

#include "studio.hpp"
#include "../folder_reader.hpp"

namespace dbkit::client::studio {

namespace {

using nlohmann::json;

json str_or_null(const Result &r, int row, int col) {
	return r.null(row, col) ? json() : json(r.get(row, col));
}
json num_or_null(const Result &r, int row, int col) {
	if (r.null(row, col))
		return json();
	try {
		return json(std::stod(r.get(row, col)));
	} catch (...) {
		return json();
	}
}
json parsed_or_null(const Result &r, int row, int col) {
	if (r.null(row, col))
		return json();
	auto j = json::parse(r.get(row, col), nullptr, false);
	return j.is_discarded() ? json() : j;
}

// The folder, read on every request (it changes while people work), or why not.
bool read_payload(const Context &ctx, json &payload, std::string &why, bool snapshots) {
	if (ctx.opt.dir.empty())
		return false;
	try {
		payload = read_folder(ctx.opt.dir, ReadOptions{snapshots});
		return true;
	} catch (const std::exception &e) {
		why = e.what();
		return false;
	}
}

// ---------------------------------------------------------------- migrations

void migrations(Context &ctx, const httplib::Request &, httplib::Response &res) {
	auto c = ctx.meta->acquire();
	ServerError err;
	auto h = c->query(fmt::format("SELECT tag, idx, applied_at::pg_catalog.text, applied_by, duration_ms, statements, how, hash "
	                              "FROM {}()",
	                              ctx.fn("dbkit_status")),
	                  {}, err);
	if (!h) {
		c.broken = err.connection_lost;
		return send_json(res, {{"ok", false}, {"error", error_json(err)}}, 500);
	}
	std::map<std::string, int> by_tag;
	for (int i = 0; i < h->rows(); ++i)
		by_tag[h->get(i, 0)] = i;
	auto history_fields = [&](json &m, int i) {
		m["applied_at"] = str_or_null(*h, i, 2);
		m["applied_by"] = str_or_null(*h, i, 3);
		m["duration_ms"] = num_or_null(*h, i, 4);
		m["statements"] = num_or_null(*h, i, 5);
		m["how"] = str_or_null(*h, i, 6);
	};
	json out = {{"ok", true}, {"dir", ctx.opt.dir}};
	json items = json::array();
	json payload;
	std::string why;
	if (read_payload(ctx, payload, why, false)) {
		auto f = c->query(fmt::format("SELECT idx, tag, state, file, note FROM {}($1::pg_catalog.jsonb)", ctx.fn("dbkit_status")),
		                  {payload_text(payload)}, err);
		if (!f) {
			c.broken = err.connection_lost;
			out["folder_error"] = error_json(err);
		} else {
			for (int i = 0; i < f->rows(); ++i) {
				json m = {{"idx", num_or_null(*f, i, 0)}, {"tag", f->get(i, 1)}, {"state", f->get(i, 2)},
				          {"file", str_or_null(*f, i, 3)}, {"note", str_or_null(*f, i, 4)}};
				auto at = by_tag.find(f->get(i, 1));
				if (at != by_tag.end())
					history_fields(m, at->second);
				items.push_back(std::move(m));
			}
		}
	} else if (!why.empty()) {
		out["folder_error"] = {{"message", why}};
	}
	if (items.empty()) {  // no folder: the history alone
		for (int i = 0; i < h->rows(); ++i) {
			json m = {{"idx", num_or_null(*h, i, 1)}, {"tag", h->get(i, 0)}, {"state", "applied"}};
			history_fields(m, i);
			items.push_back(std::move(m));
		}
	}
	// A non-transactional migration stopped half-way (a role without SELECT on dbkit.progress sees none).
	auto p = c->query("SELECT tag, status, next_statement, statements, error, updated_at::pg_catalog.text, started_by "
	                  "FROM dbkit.progress ORDER BY started_at",
	                  {}, err);
	json progress = json::array();
	if (p)
		for (int i = 0; i < p->rows(); ++i)
			progress.push_back({{"tag", p->get(i, 0)}, {"status", p->get(i, 1)}, {"next_statement", num_or_null(*p, i, 2)},
			                    {"statements", num_or_null(*p, i, 3)}, {"error", str_or_null(*p, i, 4)},
			                    {"updated_at", str_or_null(*p, i, 5)}, {"started_by", str_or_null(*p, i, 6)}});
	out["migrations"] = std::move(items);
	out["progress"] = std::move(progress);
	out["history_count"] = h->rows();
	send_json(res, out);
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
	json payload;
	std::string why;
	if (read_payload(ctx, payload, why, false)) {
		const json &files = payload["files"];
		std::string name = tag + ".sql";
		if (files.contains(name))
			out["sql"] = files[name];
		else
			out["sql_missing"] = fmt::format("{} is not in {}", name, ctx.opt.dir);
	} else {
		out["sql_missing"] = why.empty() ? "no migrations folder given (--dir)" : why;
	}
	send_json(res, out);
}

// ---------------------------------------------------------------- drift

json drift_rows(const Result &r, bool audit) {
	json out = json::array();
	for (int i = 0; i < r.rows(); ++i) {
		json row = {{"kind", r.get(i, 0)}, {"object", r.get(i, 1)}, {"change", r.get(i, 2)}, {"detail", r.get(i, 3)},
		            {"expected", parsed_or_null(r, i, 4)}, {"actual", parsed_or_null(r, i, 5)}};
		if (audit)
			row["audit"] = parsed_or_null(r, i, 6);
		out.push_back(std::move(row));
	}
	return out;
}

void drift(Context &ctx, const httplib::Request &, httplib::Response &res) {
	auto c = ctx.meta->acquire();
	ServerError err;
	auto db = c->query(fmt::format("SELECT kind, object, change, detail, expected::pg_catalog.text, actual::pg_catalog.text, "
	                               "audit::pg_catalog.text FROM {}()",
	                               ctx.fn("dbkit_drift")),
	                   {}, err);
	if (!db) {
		c.broken = err.connection_lost;
		return send_json(res, {{"ok", false}, {"error", error_json(err)}}, 500);
	}
	json out = {{"ok", true}, {"migrations", drift_rows(*db, true)}, {"code", nullptr}};
	json payload;
	std::string why;
	if (read_payload(ctx, payload, why, true)) {
		auto code = c->query(fmt::format("SELECT kind, object, change, detail, expected::pg_catalog.text, "
		                                 "actual::pg_catalog.text, snapshot FROM {}($1::pg_catalog.jsonb)",
		                                 ctx.fn("dbkit_drift_code")),
		                     {payload_text(payload)}, err);
		if (code) {
			out["code"] = drift_rows(*code, false);
			out["code_snapshot"] = code->rows() ? code->get(0, 6) : "";
		} else {
			c.broken = err.connection_lost;
			out["code_error"] = error_json(err);
		}
	} else {
		out["code_error"] = {{"message", why.empty() ? "no migrations folder given (--dir): only the comparison with "
		                                               "what the migrations left is shown"
		                                             : why}};
	}
	// The last acceptance, for context.
	auto acc = c->query("SELECT at::pg_catalog.text, actor, reason FROM dbkit.events "
	                    "WHERE action OPERATOR(pg_catalog.=) 'accept-drift' ORDER BY id DESC LIMIT 1",
	                    {}, err);
	if (acc && acc->rows())
		out["last_accept"] = {{"at", acc->get(0, 0)}, {"actor", acc->get(0, 1)}, {"reason", str_or_null(*acc, 0, 2)}};
	send_json(res, out);
}

void accept_drift(Context &ctx, const httplib::Request &req, httplib::Response &res) {
	json body;
	try {
		body = body_json(req);
	} catch (const std::exception &e) {
		return send_error(res, 400, e.what());
	}
	std::string reason = body.value("reason", "");
	if (reason.find_first_not_of(" \t\r\n") == std::string::npos)
		return send_error(res, 400, "a reason is required", "Say why the live schema is right; it is recorded in dbkit.events.");
	auto c = ctx.meta->acquire();
	ServerError err;
	auto r = c->query(fmt::format("SELECT objects, fingerprint FROM {}($1)", ctx.fn("dbkit_accept_drift")), {reason}, err);
	if (!r) {
		c.broken = err.connection_lost;
		return send_json(res, {{"ok", false}, {"error", error_json(err)}}, 409);
	}
	send_json(res, {{"ok", true}, {"objects", std::stoi(r->get(0, 0))}, {"fingerprint", r->get(0, 1)}});
}

// ---------------------------------------------------------------- schema

// The table a foreign key's definition references: "FOREIGN KEY (a) REFERENCES s.t(id) ...".
std::vector<std::string> fk_target(const std::string &def) {
	bool quoted = false;
	const std::string word = " REFERENCES ";
	for (size_t i = 0; i + word.size() <= def.size(); ++i) {
		if (def[i] == '"')
			quoted = !quoted;
		if (!quoted && def.compare(i, word.size(), word) == 0) {
			size_t end = 0;
			auto parts = split_qualified(def.substr(i + word.size()), &end);
			return parts;
		}
	}
	return {};
}

void schema(Context &ctx, const httplib::Request &, httplib::Response &res) {
	auto c = ctx.meta->acquire();
	ServerError err;
	auto r = c->query(fmt::format("SELECT {}()::pg_catalog.text", ctx.fn("dbkit_snapshot")), {}, err);
	if (!r) {
		c.broken = err.connection_lost;
		return send_json(res, {{"ok", false}, {"error", error_json(err)}}, 500);
	}
	json snap = json::parse(r->get(0, 0), nullptr, false);
	if (!snap.is_object())
		return send_error(res, 500, "dbkit_snapshot() did not return a JSON object");
	std::map<std::pair<std::string, std::string>, json> tables;
	auto table = [&](const std::string &s, const std::string &t) -> json & {
		auto &j = tables[{s, t}];
		if (j.is_null())
			j = {{"schema", s}, {"name", t}, {"kind", "table"}, {"columns", json::array()},
			     {"constraints", json::array()}, {"indexes", json::array()}, {"fks", json::array()}};
		return j;
	};
	json enums = json::array(), others = json::array();
	for (auto it = snap.begin(); it != snap.end(); ++it) {
		const std::string &key = it.key();
		auto colon = key.find(':');
		if (colon == std::string::npos)
			continue;
		std::string kind = key.substr(0, colon), name = key.substr(colon + 1);
		auto parts = split_qualified(name);
		const json &v = it.value();
		if (kind == "table" && parts.size() == 2) {
			auto &t = table(parts[0], parts[1]);
			for (auto f = v.begin(); f != v.end(); ++f)
				t[f.key()] = f.value();
		} else if (kind == "column" && parts.size() == 3) {
			json col = v;
			col["name"] = parts[2];
			table(parts[0], parts[1])["columns"].push_back(std::move(col));
		} else if (kind == "constraint" && parts.size() == 3) {
			json con = {{"name", parts[2]}, {"type", v.value("type", "")}, {"definition", v.value("definition", "")}};
			auto &t = table(parts[0], parts[1]);
			if (con["type"] == "foreign key") {
				auto target = fk_target(con["definition"].get<std::string>());
				if (target.size() == 1)
					target.insert(target.begin(), parts[0]);
				if (target.size() == 2)
					t["fks"].push_back({{"name", parts[2]}, {"schema", target[0]}, {"table", target[1]}});
			}
			t["constraints"].push_back(std::move(con));
		} else if (kind == "index" && parts.size() == 2) {
			auto tp = split_qualified(v.value("table", ""));
			if (tp.size() == 2)
				table(tp[0], tp[1])["indexes"].push_back(
				    {{"name", parts[1]}, {"definition", v.value("definition", "")}, {"invalid", v.value("invalid", false)}});
		} else if (kind == "enum") {
			enums.push_back({{"name", name}, {"labels", v.value("labels", json::array())}});
		} else if (kind != "schema") {
			others.push_back({{"kind", kind}, {"name", name}, {"value", v}});
		}
	}
	json list = json::array();
	for (auto &[k, t] : tables) {
		std::sort(t["columns"].begin(), t["columns"].end(),
		          [](const json &a, const json &b) { return a.value("position", 0) < b.value("position", 0); });
		list.push_back(std::move(t));
	}
	send_json(res, {{"ok", true}, {"tables", list}, {"enums", enums}, {"others", others}});
}

template <class F>
httplib::Server::Handler handler(Context &ctx, F f) {
	return [&ctx, f](const httplib::Request &req, httplib::Response &res) { f(ctx, req, res); };
}

}  // namespace

void add_meta_routes(httplib::Server &srv, Context &ctx) {
	srv.Get("/api/migrations", handler(ctx, migrations));
	srv.Get("/api/migration", handler(ctx, migration));
	srv.Get("/api/drift", handler(ctx, drift));
	srv.Post("/api/drift/accept", handler(ctx, accept_drift));
	srv.Get("/api/schema", handler(ctx, schema));
}

}  // namespace dbkit::client::studio
