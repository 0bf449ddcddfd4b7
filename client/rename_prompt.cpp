#include "rename_prompt.hpp"

#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include <fmt/format.h>

namespace dbkit::client {

std::vector<std::pair<std::string, std::string>> rename_candidates(const ServerError &err) {
	std::vector<std::pair<std::string, std::string>> out;
	if (err.sqlstate != "DK005")
		return out;
	const std::string key = "--rename ";
	for (size_t at = err.hint.find(key); at != std::string::npos;) {
		size_t start = at + key.size();
		size_t next = err.hint.find(" " + key, start);
		std::string spec = err.hint.substr(start, next == std::string::npos ? std::string::npos : next - start);
		size_t eq = spec.rfind('=');
		if (eq != std::string::npos && eq > 0 && eq + 1 < spec.size())
			out.emplace_back(spec.substr(0, eq), spec.substr(eq + 1));
		at = next == std::string::npos ? next : next + 1;
	}
	return out;
}

bool ask_renames(const ServerError &err, SchemaOptions &o) {
	auto candidates = rename_candidates(err);
	if (candidates.empty() || !isatty(STDIN_FILENO) || !isatty(STDERR_FILENO))
		return false;
	if (const char *ci = std::getenv("CI"); ci && *ci && std::string(ci) != "false")
		return false;
	fmt::print(stderr, "dbkit: {}\n", err.message);
	if (!err.detail.empty())
		fmt::print(stderr, "  {}\n", err.detail);
	bool answered = false;
	for (const auto &[from, to] : candidates) {
		for (;;) {
			fmt::print(stderr, "Is {} renamed to {}? [y] rename, [n] drop and add, [q] quit: ", from, to);
			std::fflush(stderr);
			std::string line;
			if (!std::getline(std::cin, line))
				return false;
			if (line == "y" || line == "Y" || line == "yes") {
				o.renames.push_back(from + "=" + to);
				answered = true;
				fmt::print(stderr, "  (next time: --rename {}={})\n", from, to);
				break;
			}
			if (line == "n" || line == "N" || line == "no") {
				o.drop_and_add = true;
				answered = true;
				fmt::print(stderr, "  (next time: --drop-and-add)\n");
				break;
			}
			if (line == "q" || line == "Q" || line == "quit")
				return false;
		}
	}
	return answered;
}

}  // namespace dbkit::client
