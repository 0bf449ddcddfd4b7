#pragma once
// How the client talks to a person (stderr, stdout) and to a script (--json).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "connection.hpp"

namespace dbkit::client {

// "dbkit: error: <message>" plus detail, hint, the failing line with a caret, SQLSTATE.
void print_server_error(const std::string &what, const ServerError &e);
nlohmann::json server_error_json(const ServerError &e);

void print_notices(const std::vector<Notice> &notices);
nlohmann::json notices_json(const std::vector<Notice> &notices);

// Formats milliseconds for people: "0.8 ms", "12 ms", "3.4 s".
std::string human_ms(double ms);

}  // namespace dbkit::client
