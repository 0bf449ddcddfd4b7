#include "session.hpp"

#include <algorithm>
#include <cstdio>
#include <string_view>

#include <fmt/format.h>

#include "core/lock_holder.hpp"
#include "exit_codes.hpp"
#include "folder_reader.hpp"
#include "report.hpp"
#include "version.hpp"

namespace dbkit::client {

void emit_json(const nlohmann::json &j) {
	if (json_documents_printed()++ > 0)
		return;  // one document per run: the first (the failure's own) wins
	if (nlohmann::json *into = captured_json()) {  // a fleet worker keeps it
		*into = j;
		return;
	}
	fmt::print(out_stream(), "{}\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
}

// The client and the extension's SQL functions change together: a database still at an
// older version (the server package was upgraded, ALTER EXTENSION was not run) or a client
// older than the database is refused with the command that fixes it, never half-run.
static int check_version(const Common &c, const Session &s, const std::string &installed,
                         const std::string &available) {
	if (installed == kVersion)
		return kOk;
	std::string message = fmt::format("the dbkit extension in {} is version {}, this client is version {}",
	                                  s.conn->describe(), installed, kVersion);
	std::string hint;
	if (available == kVersion)
		hint = "Update it once, as a superuser: run `dbkit init` (it runs ALTER EXTENSION dbkit UPDATE) or "
		       "`psql -c 'ALTER EXTENSION dbkit UPDATE'`. History, snapshots and the audit are kept.";
	else if (available == installed)
		hint = fmt::format("The server has only dbkit {}: install dbkit {} on the database host (the "
		                   "postgresql-15-dbkit package or `make install`), then run `dbkit init`; or use a "
		                   "dbkit {} client.",
		                   installed, kVersion, installed);
	else
		hint = fmt::format("Use the dbkit client of version {}, or install dbkit {} on the database host and run "
		                   "`dbkit init`.",
		                   installed, kVersion);
	fmt::print(err_stream(), "dbkit: {}\n", message);
	fmt::print(err_stream(), "  {:<8} {}\n", "hint", hint);
	if (c.json)
		emit_json({{"ok", false},
		           {"error",
		            {{"message", message},
		             {"kind", "extension_version"},
		             {"installed", installed},
		             {"client", kVersion},
		             {"available", available},
		             {"hint", hint}}}});
	return kConnection;
}

int open_session(const Common &c, Session &s, bool need_extension) {
	try {
		if (!s.conn && !s.timed_out_ahead.empty())
			throw ConnectError(s.timed_out_ahead);
		if (!s.conn)  // else connected ahead by the caller (cmd_status, while it stats the folder)
			s.conn = std::make_unique<Connection>(c.url);
	} catch (const ConnectError &e) {
		fmt::print(err_stream(), "dbkit: cannot connect: {}\n", e.what());
		std::string hint =
		    is_connect_timeout(e.what())
		        ? fmt::format("The server did not answer within connect_timeout (dbkit's default is {} s unless the "
		                      "connection string or PGCONNECT_TIMEOUT sets one): check the host and port, or set "
		                      "connect_timeout=SECONDS in the connection string.",
		                      kDefaultConnectTimeoutSeconds)
		        : "Pass --url postgres://user@host/db, set DATABASE_URL, or set PGHOST/PGPORT/PGUSER/PGDATABASE.";
		fmt::print(err_stream(), "  {:<8} {}\n", "hint", hint);
		if (c.json) {
			nlohmann::json error{{"message", e.what()}, {"kind", "connection"}};
			if (is_connect_timeout(e.what()))  // the fleet's report shows it under the target
				error["hint"] = hint;
			emit_json({{"ok", false}, {"error", error}});
		}
		return kConnection;
	}
	if (!need_extension)
		return kOk;
	ServerError err;
	// with, in the same round trip, whether this server can take a deploy's writes at all
	auto r = s.conn->query(
	    "SELECT pg_catalog.quote_ident(n.nspname), e.extversion, pg_catalog.pg_is_in_recovery(), "
	    "pg_catalog.current_setting('default_transaction_read_only') FROM pg_catalog.pg_extension e "
	    "JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace "
	    "WHERE e.extname OPERATOR(pg_catalog.=) 'dbkit'::pg_catalog.name",
	    {}, err);
	if (!r) {
		print_server_error("cannot inspect the database", err);
		return kConnection;
	}
	if (r->rows() == 1) {
		s.schema = r->get(0, 0);
		if (r->get(0, 2) == "t")
			s.read_only = "the server is a hot standby (in recovery): it takes no writes";
		else if (r->get(0, 3) == "on")
			s.read_only = "transactions are read-only by default here (default_transaction_read_only = on, set for "
			              "this database or role, or in PGOPTIONS)";
		if (r->get(0, 1) == kVersion)
			return kOk;
		// Only on a mismatch: which version the server could update to (reading
		// pg_available_extensions reads every extension's control file).
		auto a = s.conn->query(
		    "SELECT a.default_version FROM pg_catalog.pg_available_extensions a "
		    "WHERE a.name OPERATOR(pg_catalog.=) 'dbkit'::pg_catalog.name",
		    {}, err);
		return check_version(c, s, r->get(0, 1), a && a->rows() == 1 && !a->null(0, 0) ? a->get(0, 0) : "");
	}
	auto avail = s.conn->query("SELECT 1 FROM pg_catalog.pg_available_extensions WHERE name OPERATOR(pg_catalog.=) 'dbkit'::pg_catalog.name", {}, err);
	bool available = avail && avail->rows() > 0;
	fmt::print(err_stream(), "dbkit: the dbkit extension is not installed in {}\n", s.conn->describe());
	if (available)
		fmt::print(err_stream(), "  {:<8} {}\n", "hint",
		           "Create it once, as a superuser: run `dbkit init` or `psql -c 'CREATE EXTENSION dbkit'`.");
	else
		fmt::print(err_stream(), "  {:<8} {}\n", "hint",
		           "The server does not have it: on the database host run `make install` from the dbkit sources "
		           "(PostgreSQL 15), then `dbkit init`.");
	if (c.json)
		emit_json({{"ok", false}, {"error", {{"message", "the dbkit extension is not installed"}, {"kind", "extension_missing"}, {"available", available}}}});
	return kConnection;
}

namespace {
// How long a deploy waits at least for the extension's worker that re-reads the last
// deploy's objects (core/lock_holder.hpp: how dbkit_deploy_lock_holder() names it).
constexpr long kSettleWorkerWaitMs = 30000;
// what the procedure's own default is (wait_ms bigint DEFAULT 600000): waiting with no --wait
constexpr long kDeployLockDefaultWaitMs = 600000;
}  // namespace

namespace {

// Says why the lock could not be taken (or kept), as `what` failed, in text or --json.
int refused(const Common &c, const ServerError &err, const std::string &what) {
	print_server_error(what, err);
	if (c.json)
		emit_json({{"ok", false}, {"error", server_error_json(err)}});
	return kFailed;
}

// Which server session holds the lock just taken: asked in the next statement, which a
// pooler in transaction mode may give to another server session. Then the holder is
// another one (this client's, as no other can hold it now): refused (DK022), and the lock
// released when the session closes (~Session).
int note_lock_session(const Common &c, Session &s, const std::string &what) {
	ServerError err;
	auto r = s.conn->query(fmt::format("SELECT pg_catalog.pg_backend_pid(), {}()", s.fn("dbkit_deploy_lock_holder")),
	                       {}, err);
	if (!r || r->rows() != 1)
		return kOk;  // an older extension: the calls take the lock themselves
	if (r->null(0, 1)) {
		s.lock_pid = std::atoi(r->get(0, 0).c_str());
		return kOk;
	}
	std::string holder = r->get(0, 1);
	size_t at = holder.find("pid ");
	s.lock_pid = at == std::string::npos ? 0 : std::atoi(holder.c_str() + at + 4);
	err = ServerError{};
	err.sqlstate = "DK022";
	err.message = fmt::format("the deploy lock was taken in server session pid {}, and the next statement reached "
	                          "server session pid {}: the connection goes through a pooler that gives each transaction "
	                          "to another server session (pgbouncer's pool_mode = transaction or statement)",
	                          s.lock_pid, r->get(0, 0));
	err.hint = "Deploy over a direct connection, or through session pooling (pool_mode = session; Supabase's session "
	           "pooler): a deploy holds its lock, and runs a non-transactional migration statement by statement, in "
	           "one server session. The lock is released as this client exits. Nothing was applied or recorded.";
	return refused(c, err, what);
}

}  // namespace

int take_deploy_lock(const Common &c, Session &s, long wait_ms, const std::string &what) {
	ServerError err;
	// Every command that takes the lock writes (the history, its events): on a standby, or
	// where transactions are read-only by default, it would fail on dbkit's own bookkeeping
	// (a dry run blamed the migration file)
	if (!s.read_only.empty()) {
		err.sqlstate = "25006";
		err.message = s.read_only;
		err.hint = "Run it against the primary, or where transactions may write (ALTER DATABASE ... SET "
		           "default_transaction_read_only = off, if the database was made read-only on purpose only once "
		           "that purpose is over). Nothing was applied or recorded.";
		return refused(c, err, what);
	}
	// The usual case, a free lock: one round trip. Only when it is held is the
	// holder looked up and announced before waiting.
	if (s.conn->query(fmt::format("CALL {}(0::pg_catalog.int8)", s.fn("dbkit_deploy_lock")), {}, err))
		return s.locked = true, note_lock_session(c, s, what);
	if (err.sqlstate != "55P03" && err.sqlstate != "42883") {
		return refused(c, err, what);
	}
	auto h = s.conn->query(fmt::format("SELECT {}()", s.fn("dbkit_deploy_lock_holder")), {}, err);
	if (!h && err.sqlstate == "42883")
		return kOk;  // an extension older than 0.2.0: dbkit_apply takes its lock itself
	// Only the worker that re-reads the last deploy's objects after its commit (well under
	// a second; docs/design.md, "The re-read after the commit"): no deploy to announce or
	// refuse to wait for, whatever --wait says
	std::string holders = h && h->rows() == 1 && !h->null(0, 0) ? h->get(0, 0) : std::string();
	if (!holders.empty() && core::only_settle_worker(holders)) {
		wait_ms = wait_ms < 0 ? wait_ms : std::max(wait_ms, kSettleWorkerWaitMs);
	} else if (!holders.empty()) {
		for (size_t at = holders.find('\n'); at != std::string::npos; at = holders.find('\n', at + 3))
			holders.replace(at, 1, "\n  ");
		if (wait_ms == 0)
			fmt::print(err_stream(), "dbkit: dbkit's deploy lock is held (--wait 0: not waiting) by:\n  {}\n", holders);
		else
			fmt::print(err_stream(), "dbkit: waiting up to {} for dbkit's deploy lock (another deploy or repair), held by:\n  {}\n",
			           wait_ms < 0 ? std::string("10min") : human_ms(double(wait_ms)), holders);
	}
	// the wait always given: a procedure of the same name without arguments, planted in the
	// extension's schema by a role that may create there, would make CALL name() ambiguous
	std::vector<std::string> params{std::to_string(wait_ms >= 0 ? wait_ms : kDeployLockDefaultWaitMs)};
	std::string sql = fmt::format("CALL {}($1::pg_catalog.int8)", s.fn("dbkit_deploy_lock"));
	if (s.conn->query(sql, params, err))
		return s.locked = true, note_lock_session(c, s, what);
	return refused(c, err, what);
}

int load_payload(const Common &c, nlohmann::json &payload, bool snapshots) {
	try {
		payload = read_folder(c.dir, ReadOptions{snapshots});
		return kOk;
	} catch (const FolderError &e) {
		fmt::print(err_stream(), "dbkit: {}\n", e.what());
		if (!c.dir_given)
			fmt::print(err_stream(), "  {:<8} {}\n", "hint", "Pass the folder drizzle-kit writes with --dir DIR.");
		if (c.json)
			emit_json({{"ok", false}, {"error", {{"message", e.what()}, {"kind", "folder"}}}});
		return e.bad_content ? kFailed : kUsage;
	}
}

}  // namespace dbkit::client
