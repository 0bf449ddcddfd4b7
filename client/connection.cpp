#include "connection.hpp"

#include <cstdlib>

#include <fmt/format.h>

namespace dbkit::client {

namespace {
std::string field(const PGresult *r, int code) {
	const char *v = PQresultErrorField(r, code);
	return v ? v : "";
}
}  // namespace

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
	// instead of committing it with nobody watching.
	PQclear(PQexec(conn_, "SELECT pg_catalog.set_config('client_connection_check_interval', '1000', false)"));
	PQsetNoticeReceiver(
	    conn_,
	    [](void *arg, const PGresult *r) {
		    auto *self = static_cast<Connection *>(arg);
		    self->notices_.push_back({field(r, PG_DIAG_SEVERITY), field(r, PG_DIAG_MESSAGE_PRIMARY),
		                              field(r, PG_DIAG_MESSAGE_DETAIL), field(r, PG_DIAG_MESSAGE_HINT)});
	    },
	    this);
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
	return std::nullopt;
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

std::string quote_ident(const std::string &s) {
	std::string out = "\"";
	for (char c : s) {
		if (c == '"')
			out += '"';
		out += c;
	}
	return out + "\"";
}

}  // namespace dbkit::client
