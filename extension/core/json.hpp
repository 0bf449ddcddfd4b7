// A small, strict JSON reader for the journal and snapshot files.
// Why not jsonb or nlohmann: the same reader must run inside the server and in
// `dbkit check --offline`, and its errors must carry line and column so that a
// broken meta/_journal.json is reported exactly where it is broken.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dbkit::core {

struct JsonValue {
	enum class Kind { Null, Bool, Number, String, Array, Object };
	Kind kind = Kind::Null;
	bool boolean = false;
	bool is_integer = false;  // number written without fraction or exponent, fits int64
	int64_t integer = 0;
	double number = 0;
	std::string string;
	std::vector<JsonValue> items;                        // Array
	std::vector<std::pair<std::string, JsonValue>> members;  // Object, in file order
	int line = 0, column = 0;                            // where the value starts (1-based)

	const JsonValue *find(std::string_view key) const;  // last member with that key, or nullptr
	static const char *kind_name(Kind k);
};

struct JsonError {
	std::string message;
	int line = 0, column = 0;
	size_t offset = 0;
};

// The string member `key` of the JSON object `text`, if there is one.
std::optional<std::string> json_string_member(std::string_view text, std::string_view key);

// `s` as a JSON string literal, quotes included.
std::string json_quote(std::string_view s);
// Appends json_quote(s) to out; copies the runs that need no escaping whole, so
// megabytes of SQL go fast.
void append_json_quoted(std::string &out, std::string_view s);

// Parses `text`; on failure returns false and fills `err`. Depth is bounded.
bool parse_json(std::string_view text, JsonValue &out, JsonError &err);

}  // namespace dbkit::core
