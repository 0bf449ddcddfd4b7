#pragma once
// Options every command shares, and the connection to a database that has dbkit.
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "connection.hpp"

namespace dbkit::client {

struct Common {
	std::optional<std::string> url;
	std::string dir = "src/db/migrations";
	bool dir_given = false;
	bool json = false;
};

struct Session {
	std::unique_ptr<Connection> conn;
	std::string schema;  // where the dbkit_* functions live (quoted)
	std::string fn(const char *name) const { return schema + "." + name; }
};

// Connects and finds the extension. On failure prints why and returns the exit code.
int open_session(const Common &c, Session &s, bool need_extension = true);

// Reads the folder, or prints why not and returns the exit code.
int load_payload(const Common &c, nlohmann::json &payload, bool snapshots = false);

// Prints a document on stdout for --json.
void emit_json(const nlohmann::json &j);

}  // namespace dbkit::client
