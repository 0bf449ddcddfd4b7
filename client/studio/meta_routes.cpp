// dbkit studio: the drift and schema views, over dbkit's own SQL functions.
#include <algorithm>
#include <map>

#include <httplib.h>
#include <fmt/format.h>

#include "studio.hpp"

namespace dbkit::client::studio {

namespace {

using nlohmann::json;

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
	std::string why;
	if (auto folder = read_folder_cached(ctx, true, why)) {
		auto code = c->query(fmt::format("SELECT kind, object, change, detail, expected::pg_catalog.text, "
		                                 "actual::pg_catalog.text, snapshot FROM {}($1::pg_catalog.jsonb)",
		                                 ctx.fn("dbkit_drift_code")),
		                     {folder->text}, err);
		if (code) {
			// rows whose source starts with "folder: " compare the snapshot with the
			// migrations: the folder's business, not drift (see dbkit drift)
			json all = drift_rows(*code, false), drift = json::array(), folder_rows = json::array();
			std::string source;
			for (int i = 0; i < code->rows(); ++i) {
				std::string src = code->get(i, 6);
				if (src.rfind("folder: ", 0) == 0) {
					all[i]["why"] = src.substr(8);
					folder_rows.push_back(all[i]);
				} else {
					drift.push_back(all[i]);
					source = src;
				}
			}
			out["code"] = drift;
			out["code_snapshot"] = source;
			out["folder"] = folder_rows;
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
	srv.Get("/api/drift", handler(ctx, drift));
	srv.Post("/api/drift/accept", handler(ctx, accept_drift));
	srv.Get("/api/schema", handler(ctx, schema));
}

}  // namespace dbkit::client::studio
