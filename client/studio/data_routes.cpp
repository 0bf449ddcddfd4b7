// dbkit studio: the data browser. Keyset paging on the primary key (ctid for a
// table without one, which is then read-only), filters and sort as quoted
// identifiers and parameters, row estimates from pg_class.reltuples, and edits
// (--allow-edit only) of one row by its primary key in a transaction of its own.
#include <algorithm>

#include <httplib.h>
#include <fmt/format.h>

#include "studio.hpp"

namespace dbkit::client::studio {

namespace {

using nlohmann::json;

struct Column {
	std::string name, type;
	bool not_null = false;
};

struct Table {
	std::string schema, name, qualified, relkind;
	double reltuples = -1;
	// Reading a view or a table with row security runs code its owner wrote (the view's
	// functions, the policies') as whoever reads it; an update also runs the table's
	// triggers. The studio never runs another role's code as its own role: it reads or
	// writes such a relation as its owner, when its role may become that owner
	// (SET ROLE: a member of it, a superuser), and refuses otherwise.
	std::string owner;
	bool owned = true, may_become_owner = true, row_security = false, triggers = false;
	std::vector<Column> columns;
	std::vector<int> pk;  // indexes into columns, in key order
	const Column *find(const std::string &n) const {
		for (const auto &c : columns)
			if (c.name == n)
				return &c;
		return nullptr;
	}
};

struct HttpError : std::runtime_error {
	HttpError(int s, const std::string &m, const std::string &h = "") : std::runtime_error(m), status(s), hint(h) {}
	int status;
	std::string hint;
};

// The table as the catalog has it; the names come from the request and are only
// ever compared as values, then quoted from what the catalog returned.
Table lookup(Pool::Lease &c, const std::string &schema, const std::string &name) {
	ServerError err;
	auto r = c->query("SELECT c.oid, c.relkind::pg_catalog.text, c.reltuples, pg_catalog.pg_get_userbyid(c.relowner), "
	                  "pg_catalog.pg_get_userbyid(c.relowner) OPERATOR(pg_catalog.=) CURRENT_USER, "
	                  "pg_catalog.pg_has_role(c.relowner, 'MEMBER'), c.relrowsecurity, "
	                  "EXISTS (SELECT FROM pg_catalog.pg_trigger g WHERE g.tgrelid OPERATOR(pg_catalog.=) c.oid "
	                  "AND NOT g.tgisinternal) FROM pg_catalog.pg_class c "
	                  "JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace "
	                  "WHERE n.nspname OPERATOR(pg_catalog.=) $1 AND c.relname OPERATOR(pg_catalog.=) $2 "
	                  "AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p,v,m,f}'::pg_catalog.\"char\"[])",
	                  {schema, name}, err);
	if (!r) {
		c.broken = err.connection_lost;
		throw HttpError(500, err.message);
	}
	if (r->rows() == 0)
		throw HttpError(404, fmt::format("no table {}.{}", always_quoted_ident(schema), always_quoted_ident(name)),
		                "Pick a table from the list; names are exact (case and quotes matter).");
	Table t;
	t.schema = schema;
	t.name = name;
	t.qualified = always_quoted_ident(schema) + "." + always_quoted_ident(name);
	t.relkind = r->get(0, 1);
	t.reltuples = std::stod(r->get(0, 2));
	t.owner = r->get(0, 3);
	t.owned = r->get(0, 4) == "t";
	t.may_become_owner = r->get(0, 5) == "t";
	t.row_security = r->get(0, 6) == "t";
	t.triggers = r->get(0, 7) == "t";
	std::string oid = r->get(0, 0);
	// a type outside pg_catalog by its schema-qualified name: the parameters' casts then never
	// resolve through the caller's search_path to a type someone else created
	auto cols = c->query("SELECT a.attname, CASE WHEN t.typnamespace OPERATOR(pg_catalog.=) "
	                     "'pg_catalog'::pg_catalog.regnamespace THEN pg_catalog.format_type(a.atttypid, a.atttypmod) "
	                     "ELSE pg_catalog.quote_ident(tn.nspname) OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) "
	                     "pg_catalog.quote_ident(t.typname) END, a.attnotnull, "
	                     "COALESCE((SELECT k.ord FROM pg_catalog.pg_index i, "
	                     "pg_catalog.unnest(i.indkey) WITH ORDINALITY k(attnum, ord) "
	                     "WHERE i.indrelid OPERATOR(pg_catalog.=) a.attrelid AND i.indisprimary "
	                     "AND k.attnum OPERATOR(pg_catalog.=) a.attnum), 0) "
	                     "FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid OPERATOR(pg_catalog.=) a.atttypid "
	                     "JOIN pg_catalog.pg_namespace tn ON tn.oid OPERATOR(pg_catalog.=) t.typnamespace "
	                     "WHERE a.attrelid OPERATOR(pg_catalog.=) $1::pg_catalog.oid "
	                     "AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped ORDER BY a.attnum",
	                     {oid}, err);
	if (!cols) {
		c.broken = err.connection_lost;
		throw HttpError(500, err.message);
	}
	std::vector<std::pair<long, int>> keys;
	for (int i = 0; i < cols->rows(); ++i) {
		t.columns.push_back({cols->get(i, 0), cols->get(i, 1), cols->get(i, 2) == "t"});
		long ord = std::stol(cols->get(i, 3));
		if (ord > 0)
			keys.emplace_back(ord, i);
	}
	std::sort(keys.begin(), keys.end());
	for (auto &[ord, i] : keys)
		t.pk.push_back(i);
	return t;
}

// Opens the transaction a read (or an update) of t runs in, as t's owner when t runs
// its owner's code (see Table); the caller's ROLLBACK or COMMIT ends it. false: no
// transaction was needed. Throws HttpError when the studio's role may not become the owner.
bool begin_as_owner_if_needed(Pool::Lease &c, const Table &t, bool write) {
	bool runs_code = t.relkind == "v" || t.row_security || (write && t.triggers);
	if (t.owned || !runs_code)
		return false;
	std::string what = t.relkind == "v" ? "its view's functions" : write && t.triggers ? "its triggers and policies" : "its row security policies";
	if (!t.may_become_owner)
		throw HttpError(403,
		                fmt::format("{} is owned by {}: {} would run {}'s code as this studio's role, which cannot "
		                            "act as {}",
		                            t.qualified, always_quoted_ident(t.owner), write ? "editing it" : "reading it",
		                            always_quoted_ident(t.owner), always_quoted_ident(t.owner)),
		                fmt::format("The studio runs another role's code only as that role (here {}). Read it with "
		                            "psql if you trust {}, or run the studio as a role that is a member of {}.",
		                            what, always_quoted_ident(t.owner), always_quoted_ident(t.owner)));
	ServerError err;
	if (!c->query(write ? "BEGIN READ WRITE" : "BEGIN", {}, err) ||
	    !c->query("SET LOCAL ROLE " + always_quoted_ident(t.owner), {}, err)) {
		ServerError ignore;
		c->query("ROLLBACK", {}, ignore);
		c.broken = err.connection_lost;
		throw HttpError(500, err.message);
	}
	return true;
}

// Ends begin_as_owner_if_needed's read transaction on every way out of a handler.
struct EndRead {
	Pool::Lease &c;
	bool open;
	~EndRead() {
		if (open) {
			ServerError ignore;
			c->query("ROLLBACK", {}, ignore);
		}
	}
};

json parse_param_json(const httplib::Request &req, const char *name, json dflt) {
	if (!req.has_param(name) || req.get_param_value(name).empty())
		return dflt;
	auto j = json::parse(req.get_param_value(name), nullptr, false);
	if (j.is_discarded())
		throw HttpError(400, fmt::format("{} is not JSON", name));
	return j;
}

std::string as_text(const json &v) {
	if (v.is_string())
		return v.get<std::string>();
	if (v.is_null())
		return "";
	return v.dump();
}

struct Params {
	std::vector<std::string> values;
	std::string add(const std::string &v, const std::string &type) {
		values.push_back(v);
		return fmt::format("${}::{}", values.size(), type);
	}
};

void tables(Context &ctx, const httplib::Request &, httplib::Response &res) {
	auto c = ctx.user->acquire();
	ServerError err;
	auto r = c->query(
	    "SELECT n.nspname, c.relname, c.relkind::pg_catalog.text, c.reltuples::pg_catalog.int8, "
	    "EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid OPERATOR(pg_catalog.=) c.oid AND i.indisprimary) "
	    "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace "
	    "WHERE c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p,v,m,f}'::pg_catalog.\"char\"[]) "
	    "AND n.nspname OPERATOR(pg_catalog.<>) 'information_schema' AND n.nspname OPERATOR(pg_catalog.!~) '^pg_' "
	    "AND NOT c.relispartition ORDER BY n.nspname OPERATOR(pg_catalog.=) 'dbkit', 1, 2",
	    {}, err);
	if (!r) {
		c.broken = err.connection_lost;
		return send_json(res, {{"ok", false}, {"error", error_json(err)}}, 500);
	}
	json list = json::array();
	for (int i = 0; i < r->rows(); ++i)
		list.push_back({{"schema", r->get(i, 0)}, {"name", r->get(i, 1)}, {"kind", r->get(i, 2)},
		                {"estimate", std::stoll(r->get(i, 3))}, {"has_pk", r->get(i, 4) == "t"}});
	send_json(res, {{"ok", true}, {"tables", list}, {"allow_edit", ctx.opt.allow_edit}});
}

// Small tables are counted; big ones (by pg_class.reltuples) are estimated.
constexpr double kCountBelow = 100000;

void rows(Context &ctx, const httplib::Request &req, httplib::Response &res) {
	auto c = ctx.user->acquire();
	Table t = lookup(c, req.get_param_value("schema"), req.get_param_value("table"));
	EndRead end{c, begin_as_owner_if_needed(c, t, false)};
	long limit = 50;
	if (req.has_param("limit")) {
		try {
			limit = std::stol(req.get_param_value("limit"));
		} catch (...) {
			throw HttpError(400, "limit is not a number");
		}
	}
	limit = std::max(1L, std::min(limit, static_cast<long>(ctx.opt.max_rows)));
	json filters = parse_param_json(req, "filters", json::array());
	json after = parse_param_json(req, "after", json());
	std::string sort = req.get_param_value("sort");
	bool desc = req.get_param_value("dir") == "desc";
	bool by_ctid = t.pk.empty() && (t.relkind == "r" || t.relkind == "m");
	bool by_offset = t.pk.empty() && !by_ctid;  // views, foreign tables: no key at all

	Params p;
	std::vector<std::string> where;
	if (!filters.is_array())
		throw HttpError(400, "filters must be a JSON array of {col, op, value}");
	for (const auto &f : filters) {
		if (!f.is_object())
			throw HttpError(400, "each filter is {col, op, value}");
		std::string col = f.value("col", ""), op = f.value("op", "=");
		const Column *cd = t.find(col);
		if (!cd)
			throw HttpError(400, fmt::format("{} has no column {}", t.qualified, always_quoted_ident(col)));
		std::string q = always_quoted_ident(col);
		std::string v = as_text(f.contains("value") ? f["value"] : json());
		if (op == "is null" || op == "is not null")
			where.push_back(fmt::format("{} IS {}NULL", q, op == "is null" ? "" : "NOT "));
		else if (op == "contains")
			where.push_back(fmt::format("pg_catalog.strpos(pg_catalog.lower({}::pg_catalog.text), pg_catalog.lower({})) "
			                            "OPERATOR(pg_catalog.>) 0",
			                            q, p.add(v, "pg_catalog.text")));
		else if (op == "=" || op == "<>" || op == "<" || op == "<=" || op == ">" || op == ">=")
			where.push_back(fmt::format("{} OPERATOR(pg_catalog.{}) {}", q, op, p.add(v, cd->type)));
		else
			throw HttpError(400, fmt::format("unknown filter operator {}", op),
			                "Use one of =, <>, <, <=, >, >=, contains, is null, is not null.");
	}
	size_t nfilter = p.values.size();
	std::string filter_sql = where.empty() ? "" : " WHERE " + fmt::format("({})", fmt::join(where, ") AND ("));

	const Column *sc = nullptr;
	if (!sort.empty()) {
		sc = t.find(sort);
		if (!sc)
			throw HttpError(400, fmt::format("{} has no column {}", t.qualified, always_quoted_ident(sort)));
	}
	// Key columns and their types.
	std::vector<std::pair<std::string, std::string>> key;  // expression, type
	if (by_ctid)
		key.push_back({"ctid", "pg_catalog.tid"});
	for (int i : t.pk)
		key.push_back({always_quoted_ident(t.columns[i].name), t.columns[i].type});
	std::string order;
	long offset = 0;
	if (!by_offset) {
		std::vector<std::string> ks, ords;
		for (auto &[e, ty] : key) {
			ks.push_back(e);
			ords.push_back(e + (desc && sc ? " DESC" : ""));
		}
		std::string krow = "ROW(" + fmt::format("{}", fmt::join(ks, ", ")) + ")";
		if (sc)
			order = fmt::format(" ORDER BY {} {}, {}", always_quoted_ident(sc->name), desc ? "DESC NULLS FIRST" : "ASC NULLS LAST",
			                    fmt::join(ords, ", "));
		else
			order = fmt::format(" ORDER BY {}", fmt::join(ords, ", "));
		if (after.is_object()) {
			json kv = after.value("k", json::array());
			if (!kv.is_array() || kv.size() != key.size())
				throw HttpError(400, "after does not match the table's key");
			std::vector<std::string> kp;
			for (size_t i = 0; i < key.size(); ++i)
				kp.push_back(p.add(as_text(kv[i]), key[i].second));
			std::string vrow = "ROW(" + fmt::format("{}", fmt::join(kp, ", ")) + ")";
			std::string cond;
			if (!sc) {
				cond = fmt::format("{} OPERATOR(pg_catalog.>) {}", krow, vrow);
			} else {
				std::string s = always_quoted_ident(sc->name);
				const char *cmp = desc ? "OPERATOR(pg_catalog.<)" : "OPERATOR(pg_catalog.>)";
				if (after.contains("s") && !after["s"].is_null()) {
					std::string v = p.add(as_text(after["s"]), sc->type);
					cond = fmt::format("{s} {c} {v} OR ({s} OPERATOR(pg_catalog.=) {v} AND {k} {c} {r})", fmt::arg("s", s), fmt::arg("c", cmp),
					                   fmt::arg("v", v), fmt::arg("k", krow), fmt::arg("r", vrow));
					if (!desc)
						cond += fmt::format(" OR {} IS NULL", s);
				} else {
					cond = fmt::format("({} IS NULL AND {} {} {})", s, krow, cmp, vrow);
					if (desc)
						cond += fmt::format(" OR {} IS NOT NULL", s);
				}
			}
			filter_sql += (filter_sql.empty() ? " WHERE " : " AND ") + fmt::format("({})", cond);
		}
	} else {
		if (sc)
			order = fmt::format(" ORDER BY {} {}", always_quoted_ident(sc->name), desc ? "DESC NULLS FIRST" : "ASC NULLS LAST");
		if (after.is_object())
			offset = std::max(0L, after.value("o", 0L));
	}
	std::vector<std::string> sel;
	for (const auto &col : t.columns)
		sel.push_back(always_quoted_ident(col.name));
	if (by_ctid)
		sel.push_back("ctid::pg_catalog.text AS dbkit_studio_ctid");  // named "ctid", ORDER BY ctid would sort this text
	std::string sql = fmt::format("SELECT {} FROM {}{}{} LIMIT {}{}", fmt::join(sel, ", "), t.qualified, filter_sql, order,
	                              limit + 1, offset ? fmt::format(" OFFSET {}", offset) : "");
	ServerError err;
	auto r = c->query(sql, p.values, err);
	if (!r) {
		c.broken = err.connection_lost;
		return send_json(res, {{"ok", false}, {"error", error_json(err)}, {"statement", sql}}, 400);
	}
	bool truncated = false;
	int ncols = static_cast<int>(t.columns.size());
	json data = rows_array(*r, ctx.opt.max_bytes, truncated, 0, ncols);
	if (static_cast<long>(data.size()) > limit)
		data.erase(data.begin() + limit, data.end());
	bool more = truncated || r->rows() > limit;
	json next;
	if (more && !data.empty()) {
		int last = static_cast<int>(data.size()) - 1;
		if (by_offset) {
			next = {{"o", offset + static_cast<long>(data.size())}};
		} else {
			json k = json::array();
			if (by_ctid)
				k.push_back(r->get(last, ncols));
			for (int i : t.pk)
				k.push_back(data[last][i]);
			next = {{"k", k}};
			if (sc) {
				int si = static_cast<int>(sc - &t.columns[0]);
				next["s"] = data[last][si];
			}
		}
	}
	json cols = json::array();
	for (size_t i = 0; i < t.columns.size(); ++i) {
		bool pk = std::find(t.pk.begin(), t.pk.end(), static_cast<int>(i)) != t.pk.end();
		cols.push_back({{"name", t.columns[i].name}, {"type", t.columns[i].type}, {"pk", pk}});
	}
	json out = {{"ok", true}, {"schema", t.schema}, {"table", t.name}, {"columns", cols}, {"rows", data},
	            {"next", next}, {"truncated", truncated}, {"statement", sql},
	            {"paging", by_offset ? "offset" : by_ctid ? "ctid" : "primary key"},
	            {"editable", ctx.opt.allow_edit && !t.pk.empty() && t.relkind != "v" && t.relkind != "m"},
	            {"estimate", t.reltuples}};
	// Row count: exact for small tables, pg_class.reltuples for big ones.
	if (t.reltuples >= 0 && t.reltuples >= kCountBelow) {
		out["count"] = nullptr;
	} else if (!after.is_object()) {
		std::vector<std::string> cp(p.values.begin(), p.values.end());
		std::string csql = fmt::format("SELECT pg_catalog.count(*) FROM {}{}", t.qualified,
		                               where.empty() ? "" : " WHERE " + fmt::format("({})", fmt::join(where, ") AND (")));
		cp.resize(nfilter);  // the filters' parameters come first
		auto n = c->query(csql, cp, err);
		if (n)
			out["count"] = std::stoll(n->get(0, 0));
	}
	send_json(res, out);
}

void update(Context &ctx, const httplib::Request &req, httplib::Response &res) {
	if (!ctx.opt.allow_edit)
		return send_error(res, 403, "editing is off: this studio is read-only",
		                  "Restart it with `dbkit studio --allow-edit` to edit rows.");
	json body;
	try {
		body = body_json(req);
	} catch (const std::exception &e) {
		return send_error(res, 400, e.what());
	}
	auto c = ctx.user->acquire();
	Table t = lookup(c, body.value("schema", ""), body.value("table", ""));
	if (t.pk.empty() || t.relkind == "v" || t.relkind == "m")
		return send_error(res, 409, fmt::format("{} has no primary key: edits are refused", t.qualified),
		                  "A row is edited by its primary key only; add one, or change the data with SQL.");
	json key = body.value("key", json::object()), set = body.value("set", json::object());
	if (!key.is_object() || !set.is_object() || set.empty())
		return send_error(res, 400, "the body needs key {pk column: value} and set {column: value or null}");
	Params p;
	std::vector<std::string> sets, conds;
	for (auto it = set.begin(); it != set.end(); ++it) {
		const Column *cd = t.find(it.key());
		if (!cd)
			return send_error(res, 400, fmt::format("{} has no column {}", t.qualified, always_quoted_ident(it.key())));
		if (it.value().is_null())
			sets.push_back(always_quoted_ident(cd->name) + " = NULL");
		else
			sets.push_back(always_quoted_ident(cd->name) + " = " + p.add(as_text(it.value()), cd->type));
	}
	for (int i : t.pk) {
		const Column &cd = t.columns[i];
		if (!key.contains(cd.name) || key[cd.name].is_null())
			return send_error(res, 400, fmt::format("the key lacks the primary key column {}", always_quoted_ident(cd.name)));
		conds.push_back(always_quoted_ident(cd.name) + " OPERATOR(pg_catalog.=) " + p.add(as_text(key[cd.name]), cd.type));
	}
	if (key.size() != t.pk.size())
		return send_error(res, 400, "the key must name the primary key's columns only");
	std::string sql = fmt::format("UPDATE {} SET {} WHERE {} RETURNING 1", t.qualified, fmt::join(sets, ", "), fmt::join(conds, " AND "));
	ServerError err;
	auto fail = [&](int status, const json &e) {
		ServerError ignore;
		c->query("ROLLBACK", {}, ignore);
		send_json(res, {{"ok", false}, {"error", e}, {"statement", sql}, {"params", p.values}}, status);
	};
	// as the table's owner when the update runs its code (triggers, policies): see Table
	if (!begin_as_owner_if_needed(c, t, true) && !c->query("BEGIN READ WRITE", {}, err)) {
		c.broken = true;
		return send_json(res, {{"ok", false}, {"error", error_json(err)}}, 500);
	}
	auto r = c->query(sql, p.values, err);
	if (!r) {
		c.broken = err.connection_lost;
		return fail(400, error_json(err));
	}
	if (r->rows() != 1)
		return fail(409, {{"message", r->rows() == 0 ? fmt::format("no row of {} has this key (changed or deleted meanwhile?)", t.qualified)
		                                             : fmt::format("{} rows matched the key of {}", r->rows(), t.qualified)}});
	if (!c->query("COMMIT", {}, err)) {
		c.broken = err.connection_lost;
		return fail(400, error_json(err));
	}
	send_json(res, {{"ok", true}, {"statement", sql}, {"params", p.values}});
}

template <class F>
httplib::Server::Handler handler(Context &ctx, F f) {
	return [&ctx, f](const httplib::Request &req, httplib::Response &res) {
		try {
			f(ctx, req, res);
		} catch (const HttpError &e) {
			send_error(res, e.status, e.what(), e.hint);
		}
	};
}

}  // namespace

void add_data_routes(httplib::Server &srv, Context &ctx) {
	srv.Get("/api/tables", handler(ctx, tables));
	srv.Get("/api/rows", handler(ctx, rows));
	srv.Post("/api/rows/update", handler(ctx, update));
}

}  // namespace dbkit::client::studio
