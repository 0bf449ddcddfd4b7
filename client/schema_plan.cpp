#include "schema_plan.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "report.hpp"
#include "session.hpp"

namespace dbkit::client {
namespace {

std::vector<std::string> string_list(const std::string &json_text) {
	std::vector<std::string> out;
	auto j = nlohmann::json::parse(json_text, nullptr, false);
	if (j.is_array())
		for (const auto &h : j)
			if (h.is_string())
				out.push_back(h.get<std::string>());
	return out;
}

}  // namespace

std::vector<PlanStep> plan_from_diff(const Result &r) {
	std::vector<PlanStep> out;
	for (int i = 0; i < r.rows(); ++i) {
		PlanStep p;
		p.step = std::stoi(r.get(i, 0));
		p.sql = r.get(i, 1);
		p.no_transaction = r.get(i, 2) == "t";
		p.data_loss = r.get(i, 3) == "t";
		p.hazards = string_list(r.get(i, 4));
		p.object = r.get(i, 5);
		p.comment = r.null(i, 6) ? "" : r.get(i, 6);
		out.push_back(std::move(p));
	}
	return out;
}

std::vector<PlanStep> plan_from_push(const Result &r) {
	std::vector<PlanStep> out;
	for (int i = 0; i < r.rows(); ++i) {
		PlanStep p;
		p.step = std::stoi(r.get(i, 0));
		p.sql = r.get(i, 1);
		p.hazards = string_list(r.get(i, 2));
		if (!r.null(i, 3))
			p.rows_at_risk = std::stoll(r.get(i, 3));
		out.push_back(std::move(p));
	}
	return out;
}

void print_plan(const std::vector<PlanStep> &plan) {
	for (const auto &p : plan) {
		std::string sql = p.sql;
		for (auto &c : sql)
			if (c == '\n')
				c = ' ';
		fmt::print("  {:>3}  {};{}\n", p.step, sql, p.no_transaction ? "  (outside a transaction)" : "");
		if (!p.comment.empty())
			fmt::print("       -- {}\n", p.comment);
		for (const auto &h : p.hazards)
			fmt::print("       ! {}{}\n", h, p.rows_at_risk ? fmt::format(" ({} rows)", *p.rows_at_risk) : "");
	}
}

nlohmann::json plan_json(const std::vector<PlanStep> &plan) {
	nlohmann::json out = nlohmann::json::array();
	for (const auto &p : plan) {
		nlohmann::json j = {{"step", p.step},         {"sql", p.sql},          {"hazards", p.hazards},
		                    {"no_transaction", p.no_transaction}, {"data_loss", p.data_loss}};
		if (!p.object.empty())
			j["object"] = p.object;
		if (p.rows_at_risk)
			j["rows_at_risk"] = *p.rows_at_risk;
		out.push_back(j);
	}
	return out;
}

nlohmann::json engine_options(const SchemaOptions &o) {
	nlohmann::json j = nlohmann::json::object();
	if (!o.renames.empty())
		j["renames"] = o.renames;
	if (o.drop_and_add)
		j["drop_and_add"] = true;
	if (o.from_snapshot)  // a snapshot declares part of a schema: the rest is kept, nothing dropped
		j["keep_undeclared"] = true;
	if (o.accept_data_loss)
		j["accept_data_loss"] = true;
	if (!o.reason.empty())
		j["reason"] = o.reason;
	if (o.lock_timeout_ms >= 0)
		j["lock_timeout"] = o.lock_timeout_ms;
	if (o.wait_ms >= 0)
		j["lock_wait"] = o.wait_ms;
	if (!o.schema_file.empty())
		j["name"] = o.schema_file;
	return j;
}

std::optional<std::string> read_schema_file(const std::string &path, bool json) {
	std::ifstream in(path, std::ios::binary);
	if (!in) {
		std::string msg = fmt::format("cannot read the schema file {}", path);
		fmt::print(stderr, "dbkit: {}\n  hint: pass the SQL that builds the desired schema, for example the output of "
		                   "drizzle-kit export, with --schema FILE\n", msg);
		if (json)
			emit_json({{"ok", false}, {"error", {{"message", msg}, {"kind", "usage"}}}});
		return std::nullopt;
	}
	std::ostringstream s;
	s << in.rdbuf();
	std::string text = s.str();
	if (text.size() >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0)  // a BOM is not SQL
		text.erase(0, 3);
	// psql's meta-commands (pg_dump writes \restrict ... \unrestrict) are not
	// SQL: blanked, so that line numbers in errors stay the file's
	for (size_t at = 0; at < text.size();) {
		size_t end = text.find('\n', at);
		if (end == std::string::npos)
			end = text.size();
		if (text[at] == '\\')
			std::fill(text.begin() + long(at), text.begin() + long(end), ' ');
		at = end + 1;
	}
	return text;
}

}  // namespace dbkit::client
