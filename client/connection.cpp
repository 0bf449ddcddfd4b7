#include "connection.hpp"
#include "untranslatable.hpp"

#include <cstdlib>

#include <fmt/format.h>

namespace dbkit::client {

namespace {
std::string field(const PGresult *r, int code) {
	const char *v = PQresultErrorField(r, code);
	return v ? v : "";
}
}  // namespace

void set_connect_timeout(int seconds, bool replace) {
	const char *now = std::getenv("PGCONNECT_TIMEOUT");
	if (replace || !now || !*now)
		::setenv("PGCONNECT_TIMEOUT", std::to_string(seconds).c_str(), 1);
}

namespace {
thread_local long g_inherited_statement_timeout_ms = 0;  // the last connection's, in this thread (fleet: one per target)
}

long inherited_statement_timeout_ms() { return g_inherited_statement_timeout_ms; }

bool is_connect_timeout(const std::string &message) { return message.find("timeout expired") != std::string::npos; }

Connection::Connection(const std::optional<std::string> &url) {
	std::string conninfo;
	if (url)
		conninfo = *url;
	else if (const char *env = std::getenv("DATABASE_URL"); env && *env)
		conninfo = env;
	// Empty conninfo: libpq reads PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD, ...
	// PGAPPNAME, when set, still wins over the fallback name.
	const char *keys[] = {"dbname", "client_encoding", "fallback_application_name", nullptr};
	const char *vals[] = {conninfo.c_str(), "UTF8", "dbkit", nullptr};
	conn_ = PQconnectdbParams(keys, vals, /*expand_dbname=*/1);
	if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
		std::string msg = conn_ ? PQerrorMessage(conn_) : "out of memory";
		while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' '))
			msg.pop_back();
		if (conn_)
			PQfinish(conn_);
		conn_ = nullptr;
		throw ConnectError(msg);
	}
	// If this client dies mid-run, the server stops the run (and rolls it back)
	// instead of committing it with nobody watching. And settings a role or database
	// gives its sessions that would change what a deploy means, in the same round trip:
	// - statement_timeout: one dbkit_apply call runs every migration of a deploy, so a
	//   role's 30 s bounded the whole deploy (and --wait); it bounds each statement
	//   instead, as --statement-timeout does (inherited_statement_timeout_ms);
	// - idle_session_timeout: the session holds the deploy lock while pg_dump runs (--backup);
	// - default_transaction_isolation: dbkit's calls need READ COMMITTED to see a
	//   concurrent deploy's history (they refuse anything else);
	// - DateStyle: timestamps in --json are ISO 8601 whatever the database's style.
	PGresult *set = PQexec(conn_,
	                       "SELECT (SELECT s.setting FROM pg_catalog.pg_settings s WHERE s.name OPERATOR(pg_catalog.=) 'statement_timeout'::pg_catalog.text), "
	                       "pg_catalog.set_config('client_connection_check_interval', '1000', false), "
	                       "pg_catalog.set_config('statement_timeout', '0', false), "
	                       "pg_catalog.set_config('idle_session_timeout', '0', false), "
	                       "pg_catalog.set_config('default_transaction_isolation', 'read committed', false), "
	                       "pg_catalog.set_config('DateStyle', 'ISO, MDY', false)");
	g_inherited_statement_timeout_ms = 0;
	if (set && PQresultStatus(set) == PGRES_TUPLES_OK && PQntuples(set) == 1 && !PQgetisnull(set, 0, 0))
		g_inherited_statement_timeout_ms = std::strtol(PQgetvalue(set, 0, 0), nullptr, 10);
	PQclear(set);
	PQsetNoticeReceiver(
	    conn_,
	    [](void *arg, const PGresult *r) {
		    auto *self = static_cast<Connection *>(arg);
		    Notice n{field(r, PG_DIAG_SEVERITY), field(r, PG_DIAG_MESSAGE_PRIMARY), field(r, PG_DIAG_MESSAGE_DETAIL),
		             field(r, PG_DIAG_MESSAGE_HINT), {}};
		    // the extension's error context names the migration statement running (its outermost line)
		    std::string context = field(r, PG_DIAG_CONTEXT);
		    size_t nl = context.rfind('\n');
		    std::string last = nl == std::string::npos ? context : context.substr(nl + 1);
		    if (last.rfind("migration ", 0) == 0 && last.find(", statement ") != std::string::npos)
			    n.where = last;
		    else if (!self->notice_where_.empty())
			    n.where = self->notice_where_;
		    // Each server call that reads the folder warns about its findings again (a run
		    // of non-transactional migrations makes two per migration): once is enough. Only
		    // those: a migration's own RAISE WARNING is shown each time it is raised.
		    bool finding = n.detail.rfind("dbkit finding ", 0) == 0;
		    if (!finding ||
		        self->seen_notices_.insert(n.severity + '\n' + n.message + '\n' + n.detail + '\n' + n.hint).second)
			    self->notices_.push_back(std::move(n));
	    },
	    this);
}

std::vector<std::pair<std::string, std::string>> Connection::libpq_env() const {
	std::vector<std::pair<std::string, std::string>> out;
	PQconninfoOption *opts = PQconninfo(conn_);
	if (!opts)
		return out;
	for (PQconninfoOption *o = opts; o->keyword; ++o)
		if (o->envvar && o->val && *o->val && std::string(o->keyword) != "fallback_application_name")
			out.emplace_back(o->envvar, o->val);
	PQconninfoFree(opts);
	return out;
}

Connection::~Connection() {
	if (conn_)
		PQfinish(conn_);
}

std::optional<Result> Connection::query(const std::string &sql, const std::vector<std::string> &params,
                                        ServerError &err) {
	std::vector<const char *> values;
	for (const auto &p : params)
		values.push_back(p.c_str());
	PGresult *res = PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
	                             nullptr, nullptr, 0);
	ExecStatusType st = PQresultStatus(res);
	std::vector<std::string> labels = std::move(param_labels_);
	param_labels_.clear();
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return Result(res);
	err = ServerError{};
	if (res) {
		err.sqlstate = field(res, PG_DIAG_SQLSTATE);
		err.message = field(res, PG_DIAG_MESSAGE_PRIMARY);
		err.detail = field(res, PG_DIAG_MESSAGE_DETAIL);
		err.hint = field(res, PG_DIAG_MESSAGE_HINT);
		err.context = field(res, PG_DIAG_CONTEXT);
		err.internal_query = field(res, PG_DIAG_INTERNAL_QUERY);
		std::string ip = field(res, PG_DIAG_INTERNAL_POSITION), sp = field(res, PG_DIAG_STATEMENT_POSITION);
		err.internal_position = ip.empty() ? 0 : std::atoi(ip.c_str());
		err.position = sp.empty() ? 0 : std::atoi(sp.c_str());
	}
	if (err.message.empty()) {
		err.message = PQerrorMessage(conn_);
		while (!err.message.empty() && (err.message.back() == '\n' || err.message.back() == ' '))
			err.message.pop_back();
		err.connection_lost = PQstatus(conn_) != CONNECTION_OK;
	}
	PQclear(res);
	if (!err.connection_lost && !diagnosing_) {
		diagnosing_ = true;
		if (err.sqlstate == "42725")
			explain_ambiguous(err);
		else if (err.sqlstate == "42501" && err.hint.empty())
			explain_not_granted(err);
		else if (err.sqlstate == "22P05")
			explain_untranslatable(err, params, labels);
		diagnosing_ = false;
	}
	return std::nullopt;
}

// Every query here is schema-qualified with pg_catalog's operators: it runs
// with the caller's search_path, maybe with the very objects it reports on.

// 42725: functions that are not dbkit's but share a name with one of dbkit's in
// the extension's schema; named with their owners.
void Connection::explain_ambiguous(ServerError &err) {
	ServerError e2;
	auto r = query(
	    "SELECT pg_catalog.quote_ident(n.nspname::pg_catalog.text) OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) "
	    "pg_catalog.quote_ident(p.proname::pg_catalog.text) OPERATOR(pg_catalog.||) '(' OPERATOR(pg_catalog.||) "
	    "pg_catalog.pg_get_function_identity_arguments(p.oid) OPERATOR(pg_catalog.||) ')', "
	    "pg_catalog.pg_get_userbyid(p.proowner)::pg_catalog.text "
	    "FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace JOIN pg_catalog.pg_proc p ON p.pronamespace OPERATOR(pg_catalog.=) e.extnamespace "
	    "WHERE e.extname OPERATOR(pg_catalog.=) 'dbkit'::pg_catalog.name "
	    "AND p.proname OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT q.proname FROM pg_catalog.pg_depend d "
	    "JOIN pg_catalog.pg_proc q ON q.oid OPERATOR(pg_catalog.=) d.objid "
	    "WHERE d.refobjid OPERATOR(pg_catalog.=) e.oid AND d.deptype OPERATOR(pg_catalog.=) 'e'::pg_catalog.\"char\" "
	    "AND d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass)) "
	    "AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.objid OPERATOR(pg_catalog.=) p.oid "
	    "AND d.refobjid OPERATOR(pg_catalog.=) e.oid AND d.deptype OPERATOR(pg_catalog.=) 'e'::pg_catalog.\"char\") "
	    "ORDER BY 1",
	    {}, e2);
	if (!r || r->rows() == 0)
		return;
	std::string list;
	for (int i = 0; i < r->rows(); ++i)
		list += fmt::format("{}{} (owner {})", i ? ", " : "", r->get(i, 0), r->get(i, 1));
	err.detail += fmt::format("{}Functions that are not dbkit's share a name with dbkit's in its schema: {}.",
	                          err.detail.empty() ? "" : "\n", list);
	err.hint = fmt::format(
	    "Someone who can CREATE in dbkit's schema added them: drop them (DROP FUNCTION {}), and install dbkit into a "
	    "schema only its owner can create in (DROP EXTENSION dbkit; CREATE SCHEMA dbkit_api; CREATE EXTENSION dbkit "
	    "SCHEMA dbkit_api), or REVOKE CREATE on that schema from the roles that should not have it.",
	    r->get(0, 0));
}

// 42501 on one of dbkit's functions or its schema: the grant that is missing.
void Connection::explain_not_granted(ServerError &err) {
	bool ours = err.message.rfind("permission denied for function dbkit_", 0) == 0 ||
	            err.message.rfind("permission denied for function _repair", 0) == 0 ||
	            err.message == "permission denied for schema dbkit";
	if (!ours)
		return;
	ServerError e2;
	auto r = query("SELECT pg_catalog.quote_literal(CURRENT_USER::pg_catalog.text), "
	               "(SELECT pg_catalog.quote_ident(n.nspname::pg_catalog.text) FROM pg_catalog.pg_extension e "
	               "JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace "
	               "WHERE e.extname OPERATOR(pg_catalog.=) 'dbkit'::pg_catalog.name)",
	               {}, e2);
	std::string role = r && r->rows() ? r->get(0, 0) : "'" + std::string(PQuser(conn_)) + "'";
	std::string schema = r && r->rows() && !r->null(0, 1) ? r->get(0, 1) : "public";
	err.hint = fmt::format("Role {} has not been granted what a deployer needs. A superuser grants it with: "
	                       "SELECT {}.dbkit_grant_deployer({});",
	                       role, schema, role);
}

std::string Connection::describe() const {
	const char *host = PQhost(conn_);
	return fmt::format("{}@{}:{}/{}", PQuser(conn_), host ? host : "", PQport(conn_), PQdb(conn_));
}

std::vector<Notice> Connection::take_notices() {
	std::vector<Notice> out;
	out.swap(notices_);
	return out;
}

std::string always_quoted_ident(const std::string &s) {
	std::string out = "\"";
	for (char c : s) {
		if (c == '"')
			out += '"';
		out += c;
	}
	return out + "\"";
}

}  // namespace dbkit::client
