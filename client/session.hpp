#pragma once
// Options every command shares, and the connection to a database that has dbkit.
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "connection.hpp"

namespace dbkit::client {

struct Common {
	std::optional<std::string> url;
	std::string dir = "src/db/migrations";
	bool dir_given = false;
	bool json = false;
	bool no_cache = false;  // status --no-cache (or DBKIT_NO_CACHE=1): no hash cache, no server-side answer cache
};

struct Session {
	std::unique_ptr<Connection> conn;
	std::string schema;  // where the dbkit_* functions live (quoted)
	std::string timed_out_ahead;  // a connection made ahead (cmd_status) that timed out: reported, not waited for again
	bool locked = false;          // took the deploy lock: released before the connection closes
	int lock_pid = 0;             // the server session holding it (sent with every call as "lock_pid")
	std::string read_only;        // why this server takes no writes (a standby, read-only by default); empty: it does
	std::string fn(const char *name) const { return schema + "." + name; }
	// Options for a call made while holding the lock: the server refuses one that reaches
	// another server session (DK022: a pooler in transaction mode) instead of waiting on
	// the client's own lock.
	nlohmann::json with_lock(nlohmann::json o) const {
		if (lock_pid != 0)
			o["lock_pid"] = lock_pid;
		return o;
	}
	// The lock goes with the session anyway; released by hand too, so that a server session
	// a pooler keeps (and hands to the next client) does not keep it. When the unlock reaches
	// another server session than the one holding it (a pooler in transaction mode), that
	// idle session is ended: the lock would stay with it and stop every later deploy.
	~Session() {
		if (!locked || !conn)
			return;
		ServerError err;
		auto r = conn->query(fmt::format("SELECT {}()", fn("dbkit_deploy_unlock")), {}, err);
		if (lock_pid != 0 && (!r || r->rows() != 1 || r->get(0, 0) != "t"))
			conn->query(fmt::format("SELECT {}($1::pg_catalog.int4)", fn("dbkit_deploy_unlock_stranded")),
			            {std::to_string(lock_pid)}, err);
	}
};

// Connects (unless s.conn is already connected) and finds the extension. On
// failure prints why and returns the exit code.
int open_session(const Common &c, Session &s, bool need_extension = true);

// Waits (at most wait_ms; -1: the server's default) for dbkit's deploy lock and
// holds it until the session ends, outside any transaction: CALL dbkit_deploy_lock().
// Says who holds it while waiting. On failure prints why (as `what` failed) and
// returns the exit code.
int take_deploy_lock(const Common &c, Session &s, long wait_ms, const std::string &what);

// Reads the folder, or prints why not and returns the exit code.
int load_payload(const Common &c, nlohmann::json &payload, bool snapshots = false);

// Prints a document on stdout for --json.
void emit_json(const nlohmann::json &j);

}  // namespace dbkit::client
