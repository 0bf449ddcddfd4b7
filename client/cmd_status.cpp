// dbkit status: the history, or every migration of the folder with its state.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "commands.hpp"
#include "core/lock_holder.hpp"
#include "exit_codes.hpp"
#include "folder_reader.hpp"
#include "version.hpp"
#include "report.hpp"
#include "status_cache.hpp"

namespace dbkit::client {

namespace {
// The name column as wide as the longest name printed (drizzle-kit 1.0's folder names run to 80
// characters and more), 40 at least: the columns after it stay aligned.
size_t name_width(const Result &r, int col) {
	size_t w = 40;
	for (int i = 0; i < r.rows(); ++i)
		w = std::max(w, r.get(i, col).size());
	return w;
}

// The first `cols` columns of every row (all when negative), as JSON objects.
nlohmann::json rows_json(const Result &r, int cols = -1) {
	nlohmann::json rows = nlohmann::json::array();
	int n = cols < 0 ? r.cols() : cols;
	for (int i = 0; i < r.rows(); ++i) {
		nlohmann::json row;
		for (int k = 0; k < n; ++k)
			row[r.name(k)] = r.null(i, k) ? nlohmann::json() : nlohmann::json(r.get(i, k));
		rows.push_back(std::move(row));
	}
	return rows;
}

// Without --all a long history shows its newest rows only: the question at a
// terminal is "where are we", and 10,000 lines do not answer it.
constexpr int kRecent = 20;

// Where a non-transactional migration stopped half-way, if one did. Only a role
// that may not read dbkit.progress (42501) is spared the error: the history is
// still worth showing then. Any other failure is reported.
bool read_stopped(Session &s, nlohmann::json &stopped, ServerError &err) {
	stopped = nlohmann::json::array();
	auto r = s.conn->query("SELECT tag, status, next_statement, statements, COALESCE(error, ''), "
	                       "COALESCE(pg_catalog.to_jsonb(p) OPERATOR(pg_catalog.->>) 'direction', 'up') "
	                       "FROM dbkit.progress p ORDER BY started_at",
	                       {}, err);
	if (!r)
		return err.sqlstate == "42501";
	// a run whose session holds the deploy lock is running now, not stopped
	std::string holders;
	if (r->rows() > 0) {
		ServerError ignored;
		auto h = s.conn->query(fmt::format("SELECT {}()", s.fn("dbkit_deploy_lock_holder")), {}, ignored);
		holders = h && h->rows() == 1 && !h->null(0, 0) ? h->get(0, 0) : "";
		if (!holders.empty() && core::only_settle_worker(holders))
			holders.clear();
	}
	for (int i = 0; i < r->rows(); ++i) {
		bool live = r->get(i, 1) == "running" && !holders.empty();
		stopped.push_back({{"tag", r->get(i, 0)}, {"status", r->get(i, 1)}, {"next_statement", std::stoi(r->get(i, 2))},
		                   {"statements", std::stoi(r->get(i, 3))}, {"error", r->get(i, 4)}, {"live", live},
		                   {"holder", live ? holders.substr(0, holders.find('\n')) : ""},
		                   {"direction", r->get(i, 5)}});
	}
	return true;
}

void print_stopped(const nlohmann::json &stopped) {
	for (const auto &p : stopped) {
		if (p.value("live", false)) {
			fmt::print(out_stream(), "running: non-transactional migration {} at statement {} of {}, by {}\n",
			           p["tag"].get<std::string>(), p["next_statement"].get<int>(), p["statements"].get<int>(),
			           p["holder"].get<std::string>());
			continue;
		}
		std::string error = p["error"].get<std::string>();
		// a rollback's down file goes on with rollback --resume or ends with forget (migrate
		// and mark-applied are refused while it is half-done)
		bool down = p.value("direction", "up") == "down";
		fmt::print(out_stream(), "stopped: {} {} {} at statement {} of {}{} ({})\n",
		           down ? "the rollback (non-transactional down file) of" : "non-transactional migration",
		           p["tag"].get<std::string>(), p["status"].get<std::string>(), p["next_statement"].get<int>(),
		           p["statements"].get<int>(), error.empty() ? "" : ": " + error,
		           down ? "dbkit rollback --resume, or dbkit forget" : "dbkit migrate --resume, or dbkit mark-applied");
	}
}

int history_only(const Common &c, Session &s, bool all) {
	ServerError err;
	// Straight from the table with its primary key: the newest rows without
	// reading the other 9,980 (dbkit_status() returns every row), oldest first.
	auto r = s.conn->query(
	    "SELECT tag, how, applied_at, applied_by, duration_ms, statements, total FROM ("
	    "SELECT m.id, m.tag, m.how, m.applied_at::pg_catalog.text, m.applied_by, m.duration_ms, m.statements, "
	    "(SELECT pg_catalog.count(*) FROM dbkit.migrations) AS total "
	    "FROM dbkit.migrations m ORDER BY m.id DESC LIMIT $1::pg_catalog.int8) h ORDER BY id",
	    {all || c.json ? std::string("9223372036854775807") /* every row */ : std::to_string(kRecent)}, err);
	if (!r) {
		print_server_error("status failed", err);
		if (c.json)
			emit_json({{"ok", false}, {"error", server_error_json(err)}});
		return kFailed;
	}
	nlohmann::json stopped;
	if (!read_stopped(s, stopped, err)) {
		print_server_error("status failed: cannot read dbkit.progress", err);
		if (c.json)
			emit_json({{"ok", false}, {"error", server_error_json(err)}});
		return kFailed;
	}
	if (c.json) {
		emit_json({{"ok", true}, {"history", rows_json(*r, 6)}, {"stopped", stopped}});
		return kOk;
	}
	long total = r->rows() ? std::stol(r->get(0, 6)) : 0;
	size_t w = name_width(*r, 0);
	std::string out = fmt::format("{:<{}} {:<9} {:<32} {}\n", "migration", w, "how", "applied at", "by");
	for (int i = 0; i < r->rows(); ++i)
		out += fmt::format("{:<{}} {:<9} {:<32} {}\n", r->get(i, 0), w, r->get(i, 1), r->get(i, 2), r->get(i, 3));
	std::fputs(out.c_str(), out_stream());
	if (r->rows() < total)
		fmt::print(out_stream(), "{} migrations recorded in {}; the newest {} are shown (--all lists every one)\n", total,
		           s.conn->describe(), r->rows());
	else
		fmt::print(out_stream(), "{} migration{} recorded in {}\n", total, total == 1 ? "" : "s", s.conn->describe());
	print_stopped(stopped);
	return kOk;
}

}  // namespace

namespace {

constexpr const char *kStatusColumns = "idx, tag, state, applied_at::pg_catalog.text, how, note";

// The query of a folder's status from `call` (a function call returning its rows).
// summary: only the rows the text view prints (every row that needs attention,
// and the newest applied ones), each with its place (n), and the count of every
// state and of all rows, so that 10,000 rows are neither cast to text nor sent.
std::string status_query(const std::string &call, bool summary) {
	if (!summary)
		return fmt::format("SELECT {} FROM {}", kStatusColumns, call);
	return fmt::format(
	    "WITH s AS MATERIALIZED (SELECT f.idx, f.tag, f.state, f.applied_at, f.how, f.note, "
	    "                          pg_catalog.row_number() OVER () AS n FROM {} f), "
	    "     c AS (SELECT pg_catalog.sum(g.k) AS total, pg_catalog.jsonb_object_agg(g.state, g.k) AS counts "
	    "           FROM (SELECT s.state, pg_catalog.count(*) AS k FROM s GROUP BY s.state) g) "
	    "SELECT s.idx, s.tag, s.state, s.applied_at::pg_catalog.text, s.how, s.note, s.n, c.total, c.counts::pg_catalog.text "
	    "FROM s, c WHERE s.state OPERATOR(pg_catalog.<>) 'applied' OR s.n OPERATOR(pg_catalog.>) (c.total OPERATOR(pg_catalog.-) {}) "
	    "ORDER BY s.n",
	    call, kRecent);
}

// The rows of a folder's status (idx, tag, state, applied_at, how, note), as text or JSON.
// summary: `r` is status_query(..., true)'s: the printed rows only, with their place,
// the total and the counts.
int print_folder_status(const Common &c, const Result &r, const std::vector<Notice> &notices, bool all, bool summary) {
	if (c.json) {
		emit_json({{"ok", true}, {"migrations", rows_json(r)}, {"warnings", notices_json(notices)}});
		return kOk;
	}
	// Without --all: every row that needs attention, and the newest applied ones.
	std::map<std::string, long> counts;
	long rows = r.rows(), hidden = 0, place = 0;
	if (summary && rows > 0) {
		rows = std::stol(r.get(0, 7));
		nlohmann::json by_state = nlohmann::json::parse(r.get(0, 8));
		for (const auto &[state, n] : by_state.items())
			counts[state] = n.get<long>();
	}
	size_t w = name_width(r, 1);
	std::string out = fmt::format("{:>5}  {:<{}} {:<13} {}\n", "idx", "migration", w, "state", "applied at");
	for (int i = 0; i < r.rows(); ++i) {
		std::string state = r.get(i, 2);
		if (summary) {
			long n = std::stol(r.get(i, 6));  // 1-based: the rows before it not sent are hidden applied ones
			hidden += n - place - 1;
			place = n;
		} else {
			++counts[state];
			if (!all && state == "applied" && i < rows - kRecent) {
				++hidden;
				continue;
			}
		}
		if (hidden) {
			out += fmt::format("  ... {} applied migration{} not shown (--all lists every one)\n", hidden, hidden == 1 ? "" : "s");
			hidden = 0;
		}
		std::string when = r.null(i, 3) ? "" : r.get(i, 3);
		std::string how = r.null(i, 4) || r.get(i, 4) == "applied" ? "" : " (" + r.get(i, 4) + ")";
		std::string note = r.null(i, 5) ? "" : "  " + r.get(i, 5);
		out += fmt::format("{:>5}  {:<{}} {:<13} {}{}{}\n", r.get(i, 0), r.get(i, 1), w, state, when, how, note);
	}
	std::fputs(out.c_str(), out_stream());
	std::string line;
	for (const char *st : {"applied", "renamed", "adoptable", "pending", "out_of_order", "modified", "missing"})
		if (counts[st])
			line += fmt::format("{}{} {}", line.empty() ? "" : ", ", counts[st], st);
	fmt::print(out_stream(), "{} migration{} in {}: {}\n", rows, rows == 1 ? "" : "s", c.dir,
	           line.empty() ? "none" : line);
	return kOk;
}

}  // namespace

int cmd_status(const Common &c, bool all) {
	std::error_code ec;
	bool with_folder = c.dir_given || std::filesystem::is_directory(c.dir, ec);
	if (!with_folder) {
		Session s;
		if (int rc = open_session(c, s))
			return rc;
		return history_only(c, s, all);
	}
	// Nothing changed since the last run (the files' hashes from the hash cache,
	// the server's history in its key): the stored answer, no file read or sent.
	// The connection is made meanwhile, on another thread, quietly: when it
	// fails, open_session below tries again and reports why, after any problem
	// with the folder, as without the cache (after a timeout it reports that one).
	std::optional<std::string> digest;
	Session s;
	if (status_cache_enabled(c)) {
		std::thread ahead([&] {
			try {
				s.conn = std::make_unique<Connection>(c.url);
			} catch (const ConnectError &e) {
				if (is_connect_timeout(e.what()))  // a server that does not answer: once is enough
					s.timed_out_ahead = e.what();
			} catch (...) {
			}
		});
		struct Join {
			std::thread &t;
			~Join() { t.join(); }
		} join{ahead};
		digest = cached_folder_digest(c);
	}
	bool store = false;  // the server can store the answer (dbkit_status_cached exists)
	nlohmann::json payload;
	ServerError err;
	const bool summary = !all && !c.json;
	if (digest) {
		if (int rc = open_session(c, s))
			return rc;
		// The text view's rows were stored with the answer: read as they are.
		auto hit = summary ? s.conn->query(fmt::format("SELECT * FROM {}($1, '{{}}'::pg_catalog.jsonb, $2::pg_catalog.int4)",
		                                               s.fn("dbkit_status_cached_summary")),
		                                   {*digest, std::to_string(kRecent)}, err)
		                   : s.conn->query(status_query(s.fn("dbkit_status_cached") + "($1, '{}'::pg_catalog.jsonb)", false),
		                                   {*digest}, err);
		auto notices = s.conn->take_notices();
		if (hit && hit->rows() > 0) {
			if (!c.json)
				print_notices(notices);
			return print_folder_status(c, *hit, notices, all, summary);
		}
		// A miss: the folder is sent, and the answer stored. An error (an
		// older extension without the function, a table this role may not
		// read) takes the path without caches, which reports it as before.
		store = hit.has_value();
		if (int rc = load_payload(c, payload))
			return rc;
	} else {
		if (int rc = load_payload(c, payload))
			return rc;
		if (int rc = open_session(c, s))  // connects unless connected ahead
			return rc;
	}
	std::optional<Result> r;
	if (store) {
		// One snapshot for the answer and its key (dbkit_status_store stores
		// only under REPEATABLE READ): a deploy committing in between cannot
		// file an answer under a history it was not computed from.
		if (!s.conn->query("BEGIN ISOLATION LEVEL REPEATABLE READ", {}, err)) {
			print_server_error("status failed", err);
			return kFailed;
		}
		r = s.conn->query(status_query(s.fn("dbkit_status_store") +
		                                   "($1::pg_catalog.jsonb, '{}'::pg_catalog.jsonb, $2::pg_catalog.int4)",
		                               summary),
		                  {payload_text(payload), std::to_string(kRecent)}, err);
		ServerError end_err;
		if (!s.conn->query(r ? "COMMIT" : "ROLLBACK", {}, r ? err : end_err))
			r.reset();
	} else {
		r = s.conn->query(status_query(s.fn("dbkit_status") + "($1::pg_catalog.jsonb)", summary),
		                  {payload_text(payload)}, err);
	}
	auto notices = s.conn->take_notices();
	if (!c.json)
		print_notices(notices);
	if (!r) {
		print_server_error("status failed", err);
		if (c.json)
			emit_json({{"ok", false}, {"error", server_error_json(err)}});
		return kFailed;
	}
	return print_folder_status(c, *r, notices, all, summary);
}

int cmd_init(const Common &c) {
	Session s;
	if (int rc = open_session(c, s, /*need_extension=*/false))
		return rc;
	ServerError err;
	auto before = s.conn->query("SELECT extversion FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'dbkit'::pg_catalog.name", {}, err);
	if (!before) {
		print_server_error("cannot inspect the database", err);
		return kConnection;
	}
	// An installed extension is brought to the version the server has; one at this client's
	// version is left alone (ALTER EXTENSION writes: it failed on a standby, or a database
	// read-only by default, with nothing to do)
	const bool current = before->rows() == 1 && before->get(0, 0) == kVersion;
	const char *sql = before->rows() == 0 ? "CREATE EXTENSION IF NOT EXISTS dbkit" : "ALTER EXTENSION dbkit UPDATE";
	if (!current && !s.conn->query(sql, {}, err)) {
		print_server_error(before->rows() == 0 ? "cannot create the extension" : "cannot update the extension", err);
		return kConnection;
	}
	auto notices = s.conn->take_notices();
	// CREATE EXTENSION warns about this itself; an existing install is checked here
	auto r = s.conn->query(
	    "SELECT pg_catalog.quote_ident(n.nspname::pg_catalog.text), (SELECT pg_catalog.string_agg(w.x, ', ' ORDER BY w.x) FROM ("
	    "SELECT pg_catalog.quote_ident(r.rolname::pg_catalog.text) AS x FROM pg_catalog.pg_roles r "
	    "WHERE NOT r.rolsuper AND r.rolname OPERATOR(pg_catalog.<>) CURRENT_USER "
	    "AND r.rolname OPERATOR(pg_catalog.!~) '^pg_'::pg_catalog.text "
	    "AND pg_catalog.has_schema_privilege(r.oid, n.oid, 'CREATE') "
	    "UNION ALL SELECT 'PUBLIC' FROM pg_catalog.aclexplode(n.nspacl) a WHERE a.grantee OPERATOR(pg_catalog.=) 0::pg_catalog.oid "
	    "AND a.privilege_type OPERATOR(pg_catalog.=) 'CREATE'::pg_catalog.text) w) "
	    "FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace "
	    "WHERE e.extname OPERATOR(pg_catalog.=) 'dbkit'::pg_catalog.name",
	    {}, err);
	bool warned = false;
	for (const auto &n : notices)
		warned |= n.message.find("can CREATE in schema") != std::string::npos;
	print_notices(notices);
	if (r && r->rows() == 1 && !r->null(0, 1) && !warned) {
		fmt::print(err_stream(), "dbkit: warning: roles other than superusers can CREATE in schema {}, where dbkit's functions "
		                   "are: {}\n",
		           r->get(0, 0), r->get(0, 1));
		fmt::print(err_stream(), "  {:<8} {}\n", "detail",
		           "They can add functions named like dbkit's that calls typed by hand resolve to (running their code "
		           "with your rights), or that make dbkit's calls ambiguous.");
		fmt::print(err_stream(), "  {:<8} Install dbkit into a schema only its owner can create in: DROP EXTENSION dbkit; "
		                   "CREATE SCHEMA dbkit_api; CREATE EXTENSION dbkit SCHEMA dbkit_api; or REVOKE CREATE ON SCHEMA "
		                   "{} FROM {}.\n",
		           "hint", r->get(0, 0), r->get(0, 1));
	}
	auto after = s.conn->query("SELECT extversion FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'dbkit'::pg_catalog.name", {}, err);
	std::string now = after && after->rows() == 1 ? after->get(0, 0) : "?";
	std::string was = before->rows() == 1 ? before->get(0, 0) : "";
	if (c.json)
		emit_json({{"ok", true}, {"database", s.conn->describe()}, {"version", now}, {"updated_from", was.empty() || was == now ? nlohmann::json() : nlohmann::json(was)}});
	else if (!was.empty() && was != now)
		fmt::print(out_stream(), "dbkit: extension updated from {} to {} in {}\n", was, now, s.conn->describe());
	else
		fmt::print(out_stream(), "dbkit: extension {} ready in {}\n", now, s.conn->describe());
	return kOk;
}

}  // namespace dbkit::client
