// dbkit studio: the query console. One statement per request, in a transaction
// of its own that is rolled back (read-only, the default) or committed
// (--allow-edit), under the studio's statement_timeout. A query's rows are read
// through a cursor a page at a time, so a huge result never reaches the client.
#include <cctype>
#include <chrono>

#include <httplib.h>
#include <fmt/format.h>

#include "studio.hpp"

namespace dbkit::client::studio {

namespace {

using nlohmann::json;

// The statement's first keyword, lower case, past blanks, comments and '('.
std::string first_word(const std::string &sql) {
	size_t i = 0;
	while (i < sql.size()) {
		char ch = sql[i];
		if (std::isspace(static_cast<unsigned char>(ch)) || ch == '(') {
			++i;
		} else if (sql.compare(i, 2, "--") == 0) {
			i = sql.find('\n', i);
			if (i == std::string::npos)
				return "";
		} else if (sql.compare(i, 2, "/*") == 0) {
			i = sql.find("*/", i + 2);
			if (i == std::string::npos)
				return "";
			i += 2;
		} else {
			break;
		}
	}
	std::string w;
	while (i < sql.size() && std::isalpha(static_cast<unsigned char>(sql[i])))
		w += static_cast<char>(std::tolower(static_cast<unsigned char>(sql[i++])));
	return w;
}

// Trailing blanks and semicolons go: the cursor's DECLARE wraps the text.
std::string trim_end(std::string s) {
	while (!s.empty() && (std::isspace(static_cast<unsigned char>(s.back())) || s.back() == ';'))
		s.pop_back();
	return s;
}

void query(Context &ctx, const httplib::Request &req, httplib::Response &res) {
	json body;
	try {
		body = body_json(req);
	} catch (const std::exception &e) {
		return send_error(res, 400, e.what());
	}
	std::string sql = trim_end(body.value("sql", ""));
	if (first_word(sql).empty() && sql.find_first_not_of(" \t\r\n") == std::string::npos)
		return send_error(res, 400, "the statement is empty");
	long offset = 0, limit = 100;
	try {
		offset = body.value("offset", 0L);
		limit = body.value("limit", 100L);
	} catch (const std::exception &) {
		return send_error(res, 400, "offset and limit are numbers");
	}
	if (offset < 0)
		return send_error(res, 400, "offset must be 0 or more");
	limit = std::max(1L, std::min(limit, static_cast<long>(ctx.opt.max_rows)));

	auto c = ctx.user->acquire();
	ServerError err;
	bool edit = ctx.opt.allow_edit;
	// The session's settings again (an earlier committed SET cannot loosen them), then the transaction.
	if (!c->query("SELECT pg_catalog.set_config('default_transaction_read_only', 'on', false), "
	              "pg_catalog.set_config('statement_timeout', $1, false)",
	              {std::to_string(ctx.opt.statement_timeout_ms)}, err) ||
	    !c->query(edit ? "BEGIN READ WRITE" : "BEGIN READ ONLY", {}, err)) {
		c.broken = true;
		return send_json(res, {{"ok", false}, {"error", error_json(err)}}, 500);
	}
	auto end_tx = [&](bool commit) {
		ServerError ignore;
		c->query(commit ? "COMMIT" : "ROLLBACK", {}, ignore);
	};
	auto started = std::chrono::steady_clock::now();
	auto elapsed = [&] {
		return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
	};
	std::string w = first_word(sql);
	bool cursor = w == "select" || w == "values" || w == "table" || (w == "with" && !edit);
	const std::string prefix = "DECLARE dbkit_studio_cursor NO SCROLL CURSOR FOR ";
	auto fail = [&](ServerError &e, bool shifted) {
		c.broken = e.connection_lost;
		if (shifted && e.position > static_cast<int>(prefix.size()))
			e.position -= static_cast<int>(prefix.size());
		json j = error_json(e);
		if (e.sqlstate == "57014")
			j["hint"] = fmt::format("The studio cancels a statement after {} ms (dbkit studio --statement-timeout).",
			                        ctx.opt.statement_timeout_ms);
		else if (e.sqlstate == "25006" && !edit)
			j["hint"] = "The console is read-only; `dbkit studio --allow-edit` runs statements read-write.";
		else if (e.message.find("multiple commands") != std::string::npos)
			j["hint"] = "The console runs one statement at a time.";
		if (!e.connection_lost)
			end_tx(false);
		send_json(res, {{"ok", false}, {"error", j}, {"elapsed_ms", elapsed()}}, 400);
	};
	json out = {{"ok", true}, {"offset", offset}, {"limit", limit}, {"read_only", !edit}};
	bool truncated = false;
	if (cursor) {
		if (!c->query(prefix + sql, {}, err))
			return fail(err, true);
		if (offset > 0 && !c->query(fmt::format("MOVE FORWARD {} IN dbkit_studio_cursor", offset), {}, err))
			return fail(err, false);
		auto r = c->query(fmt::format("FETCH FORWARD {} FROM dbkit_studio_cursor", limit + 1), {}, err);
		if (!r)
			return fail(err, false);
		json cols = json::array();
		for (int k = 0; k < r->cols(); ++k)
			cols.push_back(r->name(k));
		json rows = rows_array(*r, ctx.opt.max_bytes, truncated);
		if (static_cast<long>(rows.size()) > limit)
			rows.erase(rows.begin() + limit, rows.end());
		out["columns"] = cols;
		out["more"] = truncated || r->rows() > limit;
		out["rows"] = std::move(rows);
	} else {
		auto r = c->query(sql, {}, err);
		if (!r)
			return fail(err, false);
		json cols = json::array();
		for (int k = 0; k < r->cols(); ++k)
			cols.push_back(r->name(k));
		json rows = offset < r->rows() ? rows_array(*r, ctx.opt.max_bytes, truncated, static_cast<int>(offset)) : json::array();
		if (static_cast<long>(rows.size()) > limit)
			rows.erase(rows.begin() + limit, rows.end());
		out["columns"] = cols;
		out["more"] = truncated || r->rows() > offset + limit;
		out["rows"] = std::move(rows);
	}
	out["truncated"] = truncated;
	end_tx(edit);
	out["elapsed_ms"] = elapsed();
	out["committed"] = edit;
	send_json(res, out);
}

}  // namespace

void add_query_routes(httplib::Server &srv, Context &ctx) {
	srv.Post("/api/query", [&ctx](const httplib::Request &req, httplib::Response &res) { query(ctx, req, res); });
}

}  // namespace dbkit::client::studio
