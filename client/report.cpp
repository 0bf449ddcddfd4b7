#include "report.hpp"

#include <cstdio>

#include <fmt/format.h>

namespace dbkit::client {

namespace {

void print_indented(const char *label, const std::string &text) {
	if (text.empty())
		return;
	size_t start = 0;
	bool first = true;
	for (;;) {
		size_t nl = text.find('\n', start);
		std::string line = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
		fmt::print(err_stream(), "  {:<8} {}\n", first ? label : "", line);
		first = false;
		if (nl == std::string::npos)
			break;
		start = nl + 1;
	}
}

// The line of `query` holding the 1-based character position, and a caret under it.
void print_caret(const std::string &query, int char_pos) {
	size_t byte = 0;
	for (int n = 1; n < char_pos && byte < query.size(); ++n) {
		++byte;
		while (byte < query.size() && (static_cast<unsigned char>(query[byte]) & 0xC0) == 0x80)
			++byte;
	}
	size_t begin = query.rfind('\n', byte == 0 ? 0 : byte - 1);
	begin = (begin == std::string::npos || byte == 0) ? 0 : begin + 1;
	if (byte > 0 && query[byte - 1] == '\n')
		begin = byte;
	size_t end = query.find('\n', byte);
	std::string line = query.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
	size_t col = 0;
	for (size_t i = begin; i < byte; ++i)
		if ((static_cast<unsigned char>(query[i]) & 0xC0) != 0x80)
			++col;
	std::string pad;
	for (size_t i = 0; i < col; ++i)
		pad += line.size() > i && line[i] == '\t' ? '\t' : ' ';
	fmt::print(err_stream(), "  {:<8} {}\n  {:<8} {}^\n", "at", line, "", pad);
}

}  // namespace

namespace {
struct Remembered {
	std::string kind;
	ServerError error;
	bool set = false;
};
thread_local Remembered last_error;
thread_local nlohmann::json *json_capture = nullptr;
}  // namespace

int &json_documents_printed() {
	thread_local int n = 0;
	return n;
}

void reset_json_state() {
	json_documents_printed() = 0;
	last_error = Remembered{};
}

void capture_json(nlohmann::json *into) { json_capture = into; }
nlohmann::json *captured_json() { return json_capture; }

void remember_error(const std::string &kind, const ServerError &e) {
	last_error.kind = kind;
	last_error.error = e;
	last_error.set = true;
}

nlohmann::json last_error_json(int exit_code, const std::string &fallback_kind) {
	nlohmann::json err = last_error.set ? server_error_json(last_error.error)
	                                    : nlohmann::json{{"message", "dbkit failed; see stderr"}};
	if (err.contains("sqlstate") && err["sqlstate"] == "")
		err.erase("sqlstate");
	err["kind"] = last_error.set && !last_error.kind.empty() ? last_error.kind : fallback_kind;
	return {{"ok", false}, {"exit_code", exit_code}, {"error", err}};
}

void print_server_error(const std::string &what, const ServerError &e) {
	ServerError named = e;
	named.message = what + ": " + e.message;
	remember_error("server", named);
	fmt::print(err_stream(), "dbkit: {}: {}\n", what, e.message);
	print_indented("detail", e.detail);
	if (!e.internal_query.empty() && e.internal_position > 0)
		print_caret(e.internal_query, e.internal_position);
	else if (!e.internal_query.empty())
		print_indented("query", e.internal_query.size() > 400 ? e.internal_query.substr(0, 400) + " ..."
		                                                         : e.internal_query);
	print_indented("hint", e.hint);
	// dbkit's own errors (DKnnn) name the file, migration and statement themselves: the
	// context would only be dbkit's SQL wrappers (kept in --json)
	if (e.sqlstate.rfind("DK", 0) != 0)
		print_indented("context", e.context);
	if (!e.sqlstate.empty())
		fmt::print(err_stream(), "  {:<8} {}\n", "sqlstate", e.sqlstate);
}

nlohmann::json server_error_json(const ServerError &e) {
	nlohmann::json j = {{"sqlstate", e.sqlstate}, {"message", e.message}};
	if (!e.detail.empty()) j["detail"] = e.detail;
	if (!e.hint.empty()) j["hint"] = e.hint;
	if (!e.context.empty()) j["context"] = e.context;
	if (!e.internal_query.empty()) j["query"] = e.internal_query;
	if (e.internal_position) j["position"] = e.internal_position;
	return j;
}

void print_notices(const std::vector<Notice> &notices) {
	for (const auto &n : notices) {
		std::string sev = n.severity;
		for (auto &c : sev)
			c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
		fmt::print(err_stream(), "dbkit: {}: {}\n", sev, n.message);
		print_indented("where", n.where);
		print_indented("hint", n.hint);
	}
}

nlohmann::json notices_json(const std::vector<Notice> &notices) {
	nlohmann::json a = nlohmann::json::array();
	for (const auto &n : notices) {
		nlohmann::json j = {{"severity", n.severity}, {"message", n.message}};
		if (!n.detail.empty()) j["detail"] = n.detail;
		if (!n.hint.empty()) j["hint"] = n.hint;
		if (!n.where.empty()) j["where"] = n.where;
		a.push_back(j);
	}
	return a;
}

std::string human_ms(double ms) {
	if (ms < 10)
		return fmt::format("{:.1f} ms", ms);
	if (ms < 10000)
		return fmt::format("{:.0f} ms", ms);
	return fmt::format("{:.1f} s", ms / 1000);
}

}  // namespace dbkit::client
