#include "spi.hpp"

#include <unordered_map>

#include <fmt/format.h>

namespace dbkit::spi {

Arg text(std::string_view s) {
	const char *p = s.data();
	int len = static_cast<int>(s.size());
	::text *t = PgCall([&]() noexcept { return cstring_to_text_with_len(p, len); });
	return {TEXTOID, PointerGetDatum(t), false};
}

Arg text_or_null(const std::optional<std::string> &s) { return s ? text(*s) : Arg{TEXTOID, Datum(0), true}; }

Arg int8(int64_t v) { return {INT8OID, Int64GetDatum(v), false}; }
Arg int4(int32_t v) { return {INT4OID, Int32GetDatum(v), false}; }
Arg float8(double v) { return {FLOAT8OID, Float8GetDatum(v), false}; }

Arg jsonb_text(std::string_view json) {
	std::string s(json);
	const char *p = s.c_str();
	Datum d = PgCall([&]() noexcept { return DirectFunctionCall1(jsonb_in, CStringGetDatum(p)); });
	return {JSONBOID, d, false};
}

void connect() {
	int rc = PgCall([]() noexcept { return SPI_connect(); });
	if (rc != SPI_OK_CONNECT)
		throw Error(ERRCODE_INTERNAL_ERROR, "SPI_connect failed");
}

void finish() {
	PgCall([]() noexcept { SPI_finish(); });
}

namespace {

// dbkit's own queries run with search_path = pg_catalog, pg_temp, so objects a
// role placed earlier on the caller's search_path cannot stand in for the
// functions, operators and types they use. User migrations never go through here,
// nor push's plan (execute_as_user).
// And without JIT: they are catalog reads and bookkeeping on dbkit's small,
// never-analyzed tables, whose estimates pass jit_above_cost at 10,000 tables;
// compiling one deploy's bookkeeping UPDATE took 300 ms for a 1 ms query.
class SafeSearchPath {
public:
	SafeSearchPath() {
		level_ = PgCall([]() noexcept {
			int l = NewGUCNestLevel();
			(void)set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
			                        true, 0, false);
			(void)set_config_option("jit", "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
			return l;
		});
	}
	~SafeSearchPath() {
		int l = level_;
		try {
			PgCall([&]() noexcept { AtEOXact_GUC(true, l); });
		} catch (...) {
		}
	}

private:
	int level_;
};

struct Packed {
	std::vector<Oid> types;
	std::vector<Datum> values;
	std::string nulls;
	explicit Packed(const std::vector<Arg> &args) {
		for (const auto &a : args) {
			types.push_back(a.type);
			values.push_back(a.value);
			nulls.push_back(a.null ? 'n' : ' ');
		}
	}
};

void check(int rc, const char *what) {
	if (rc < 0)
		throw Error(ERRCODE_INTERNAL_ERROR, std::string(what) + " failed: " + SPI_result_code_string(rc));
}
}  // namespace

int execute_as_user(const char *sql) {
	int rc = PgCall([&]() noexcept { return SPI_execute(sql, false, 0); });
	check(rc, "SPI_execute");
	return rc;
}

int execute(const char *sql, const std::vector<Arg> &args, bool read_only) {
	Packed p(args);
	int n = static_cast<int>(args.size());
	SafeSearchPath safe;
	int rc = PgCall([&]() noexcept {
		return SPI_execute_with_args(sql, n, n ? p.types.data() : nullptr, n ? p.values.data() : nullptr,
		                             n ? p.nulls.c_str() : nullptr, read_only, 0);
	});
	check(rc, "SPI_execute");
	return rc;
}

int execute_cached(const char *sql, const std::vector<Arg> &args, bool read_only) {
	// for the backend's life, like plpgsql's plans; never freed
	static auto *plans = new std::unordered_map<std::string, SPIPlanPtr>();
	constexpr size_t kMaxPlans = 256;
	std::string key(sql);
	std::vector<Oid> types;
	for (const auto &a : args) {
		key += fmt::format("\n{}", a.type);
		types.push_back(a.type);
	}
	auto it = plans->find(key);
	if (it == plans->end()) {
		if (plans->size() >= kMaxPlans)
			return execute(sql, args, read_only);
		// one generic plan: these are small lookups by key, whose plan does not depend
		// on the values (the default would plan each of the first five calls anew)
		SPIPlanPtr plan = prepare(sql, types, CURSOR_OPT_GENERIC_PLAN);
		if (PgCall([&]() noexcept { return SPI_keepplan(plan); }) != 0)
			return execute(sql, args, read_only);
		it = plans->emplace(std::move(key), plan).first;
	}
	return execute_plan(it->second, args, read_only);
}

SPIPlanPtr prepare(const char *sql, const std::vector<Oid> &types, int cursor_options) {
	int n = static_cast<int>(types.size());
	Oid *t = const_cast<Oid *>(types.data());
	SafeSearchPath safe;
	SPIPlanPtr plan = PgCall([&]() noexcept { return SPI_prepare_cursor(sql, n, t, cursor_options); });
	if (!plan)
		throw Error(ERRCODE_INTERNAL_ERROR, std::string("SPI_prepare failed: ") + SPI_result_code_string(SPI_result));
	return plan;
}

int execute_plan(SPIPlanPtr plan, const std::vector<Arg> &args, bool read_only) {
	Packed p(args);
	SafeSearchPath safe;
	int rc = PgCall([&]() noexcept { return SPI_execute_plan(plan, p.values.data(), p.nulls.c_str(), read_only, 0); });
	check(rc, "SPI_execute_plan");
	return rc;
}

uint64_t rows() { return SPI_processed; }

std::optional<std::string> get_text(uint64_t row, int col) {
	HeapTuple tup = SPI_tuptable->vals[row];
	TupleDesc desc = SPI_tuptable->tupdesc;
	char *v = PgCall([&]() noexcept { return SPI_getvalue(tup, desc, col); });
	if (!v)
		return std::nullopt;
	return std::string(v);
}

std::optional<int64_t> get_int64(uint64_t row, int col) {
	auto s = get_text(row, col);
	if (!s)
		return std::nullopt;
	return std::stoll(*s);
}

std::string sql_ident(std::string_view ident) {
	std::string s(ident);
	const char *p = s.c_str();
	const char *q = PgCall([&]() noexcept { return quote_identifier(p); });
	return q;
}

}  // namespace dbkit::spi
