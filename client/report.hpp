#pragma once
// How the client talks to a person (stderr, stdout) and to a script (--json).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "connection.hpp"
#include "output.hpp"

namespace dbkit::client {

// "dbkit: error: <message>" plus detail, hint, the failing line with a caret, SQLSTATE.
void print_server_error(const std::string &what, const ServerError &e);
nlohmann::json server_error_json(const ServerError &e);

void print_notices(const std::vector<Notice> &notices);
nlohmann::json notices_json(const std::vector<Notice> &notices);

// --json: every run prints exactly one JSON document on stdout. emit_json()
// counts what it prints; main() prints a document for a path that printed none
// (usage errors, a failed init, ...) from the last error reported here.
// Both are per thread: a fleet worker runs one command per target on its own
// thread (client/fleet.cpp) and starts each with reset_json_state().
int &json_documents_printed();
void remember_error(const std::string &kind, const ServerError &e);
void reset_json_state();  // no document printed, no error remembered
// While `into` is set, emit_json() on this thread stores its document there
// instead of printing it (nullptr: print again).
void capture_json(nlohmann::json *into);
nlohmann::json *captured_json();
// {"ok": false, "exit_code": rc, "error": {...}} for the last remembered error.
nlohmann::json last_error_json(int exit_code, const std::string &fallback_kind);

// Formats milliseconds for people: "0.8 ms", "12 ms", "3.4 s".
std::string human_ms(double ms);

}  // namespace dbkit::client
