#pragma once
// Rows of a set-returning function, collected in C++ and handed to PostgreSQL
// at the end (materialized mode). Cell types must match the SQL declaration.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "guard.hpp"

namespace dbkit {

// JSON text for a jsonb column.
struct JsonText {
	std::string text;
};
using Cell = std::variant<std::monostate, std::string, int32_t, int64_t, double, bool, JsonText>;

inline Cell opt(const std::optional<std::string> &s) { return s ? Cell(*s) : Cell(); }

class ResultRows {
public:
	explicit ResultRows(FunctionCallInfo fcinfo);  // compat::init_materialized_srf (materialize mode)
	void add(std::vector<Cell> row);
	Datum done();  // writes the rows into the tuplestore

private:
	ReturnSetInfo *rsinfo_;
	std::vector<std::vector<Cell>> rows_;
};

}  // namespace dbkit
