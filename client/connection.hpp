#pragma once
// libpq, RAII. Connection from --url, else DATABASE_URL, else the PG* variables.
#include <memory>
#include <optional>
#include <stdexcept>
#include <set>
#include <string>
#include <vector>

#include <libpq-fe.h>

namespace dbkit::client {

// An error as the server reported it, field by field.
struct ServerError {
	std::string sqlstate, message, detail, hint, context, internal_query;
	int internal_position = 0, position = 0;
	bool connection_lost = false;
};

struct Notice {
	std::string severity, message, detail, hint;
	std::string where;  // "migration F, statement N (line L)": the statement that raised it, when a migration's
};

struct ConnectError : std::runtime_error {
	using std::runtime_error::runtime_error;
};

class Result {
public:
	explicit Result(PGresult *r) : r_(r, PQclear) {}
	int rows() const { return PQntuples(r_.get()); }
	int cols() const { return PQnfields(r_.get()); }
	std::string name(int c) const { return PQfname(r_.get(), c); }
	bool null(int row, int c) const { return PQgetisnull(r_.get(), row, c); }
	std::string get(int row, int c) const { return PQgetvalue(r_.get(), row, c); }
	int col(const char *name) const { return PQfnumber(r_.get(), name); }

private:
	std::unique_ptr<PGresult, decltype(&PQclear)> r_;
};

class Connection {
public:
	explicit Connection(const std::optional<std::string> &url);
	~Connection();
	Connection(const Connection &) = delete;
	Connection &operator=(const Connection &) = delete;

	// Runs `sql` with text parameters; on error fills `err` and returns nullopt.
	std::optional<Result> query(const std::string &sql, const std::vector<std::string> &params, ServerError &err);
	std::string describe() const;  // user@host:port/db, for messages
	// The connection's parameters as libpq environment variables (PGHOST=..., PGPASSWORD=...),
	// for a child program (pg_dump) to reach the same database without a password in its argv.
	std::vector<std::pair<std::string, std::string>> libpq_env() const;
	std::vector<Notice> take_notices();
	// What a notice that names no migration statement is said to come from (a statement
	// the client runs itself, outside the server's functions); empty: nothing.
	void set_notice_where(std::string where) { notice_where_ = std::move(where); }
	// What the next query's parameters hold, when one is not a folder's payload (--schema
	// FILE's path, "--reason"): named in an encoding error. Used by that query only.
	void label_next_params(std::vector<std::string> labels) { param_labels_ = std::move(labels); }

private:
	void explain_ambiguous(ServerError &err);
	void explain_not_granted(ServerError &err);
	PGconn *conn_ = nullptr;
	bool diagnosing_ = false;
	std::vector<Notice> notices_;
	std::set<std::string> seen_notices_;  // dbkit's folder findings this connection received: a repeat is dropped
	std::string notice_where_;
	std::vector<std::string> param_labels_;
};

// libpq waits forever for a server that accepts the TCP connection and never answers (a
// black-holed proxy, a half-dead pooler). Every connection of dbkit gives up after
// kDefaultConnectTimeoutSeconds unless the connection string (or its service) sets
// connect_timeout or PGCONNECT_TIMEOUT is set: the default travels as PGCONNECT_TIMEOUT,
// which libpq reads only for a connection that sets none itself.
constexpr int kDefaultConnectTimeoutSeconds = 10;
// Sets PGCONNECT_TIMEOUT to `seconds` (0: wait forever), replacing a value already set only
// when `replace`. Call it before any thread starts.
void set_connect_timeout(int seconds, bool replace);
// True when a connection error is libpq's connect_timeout expiring.
bool is_connect_timeout(const std::string &message);
// The statement_timeout (ms) the role or database gave the session dbkit last opened in
// this thread, before dbkit set it to 0 for the session: 0 when none.
long inherited_statement_timeout_ms();

// An identifier for SQL the client sends: always double-quoted (the client has no
// keyword list; quoting every name is always correct).
std::string always_quoted_ident(const std::string &s);

}  // namespace dbkit::client
