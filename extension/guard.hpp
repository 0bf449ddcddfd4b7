#pragma once
// The exception boundary between PostgreSQL (longjmp) and C++ (exceptions).
//   Guard   PostgreSQL calls C++: no C++ exception escapes; ereport after the catch.
//   PgCall  C++ calls PostgreSQL: an ERROR becomes a PgError, destructors run.
#include <exception>
#include <new>
#include <string>
#include <type_traits>
#include <utility>

#include "pg.hpp"

namespace dbkit {

// A PostgreSQL ERROR turned into a C++ exception; keeps the whole ErrorData.
class PgError : public std::exception {
public:
	explicit PgError(ErrorData *edata) noexcept : edata_(edata) {}
	const char *what() const noexcept override { return edata_->message ? edata_->message : "postgres error"; }
	ErrorData *edata() const noexcept { return edata_; }

private:
	ErrorData *edata_;
};

// A dbkit error for the user: SQLSTATE, message, and what to do next.
class Error : public std::exception {
public:
	Error(int sqlstate, std::string message, std::string hint = {}, std::string detail = {})
	    : sqlstate_(sqlstate), message_(std::move(message)), hint_(std::move(hint)), detail_(std::move(detail)) {}
	const char *what() const noexcept override { return message_.c_str(); }
	int sqlstate() const noexcept { return sqlstate_; }
	const std::string &hint() const noexcept { return hint_; }
	const std::string &detail() const noexcept { return detail_; }

private:
	int sqlstate_;
	std::string message_, hint_, detail_;
};

// Runs `f` (noexcept, no C++ objects with destructors inside) and turns a
// PostgreSQL ERROR into PgError. Only for calls after which the caller either
// rethrows or has rolled back a subtransaction (conventions rule 5).
template <typename F>
auto PgCall(F &&f) -> std::invoke_result_t<F &> {
	static_assert(noexcept(f()), "PgCall body must be noexcept");
	using R = std::invoke_result_t<F &>;
	MemoryContext mcxt = CurrentMemoryContext;
	ErrorData *volatile edata = nullptr;
	if constexpr (std::is_void_v<R>) {
		PG_TRY();
		{ f(); }
		PG_CATCH();
		{
			MemoryContextSwitchTo(mcxt);
			edata = CopyErrorData();
			FlushErrorState();
		}
		PG_END_TRY();
		if (edata)
			throw PgError(edata);
	} else {
		static_assert(std::is_trivially_copyable_v<R>, "PgCall returns PODs, pointers or Datum only");
		volatile R result{};
		PG_TRY();
		{ result = f(); }
		PG_CATCH();
		{
			MemoryContextSwitchTo(mcxt);
			edata = CopyErrorData();
			FlushErrorState();
		}
		PG_END_TRY();
		if (edata)
			throw PgError(edata);
		return result;
	}
}

// Top of every SQL-callable function.
template <typename F>
Datum Guard(const char *fn, F &&body) {
	sigjmp_buf *saved_stack = PG_exception_stack;
	ErrorContextCallback *saved_ctx = error_context_stack;
	ErrorData *pg_edata = nullptr;
	const char *msg = nullptr;
	const char *hint = nullptr;
	const char *detail = nullptr;
	int sqlstate = ERRCODE_INTERNAL_ERROR;
	try {
		return body();
	} catch (const PgError &e) {
		pg_edata = e.edata();
	} catch (const Error &e) {
		sqlstate = e.sqlstate();
		msg = pstrdup(e.what());
		hint = e.hint().empty() ? nullptr : pstrdup(e.hint().c_str());
		detail = e.detail().empty() ? nullptr : pstrdup(e.detail().c_str());
	} catch (const std::bad_alloc &) {
		sqlstate = ERRCODE_OUT_OF_MEMORY;
		msg = "out of memory";
	} catch (const std::exception &e) {
		msg = pstrdup(e.what());
	} catch (...) {
		msg = "unknown C++ exception";
	}
	// Outside every catch handler now: longjmp is safe.
	PG_exception_stack = saved_stack;
	error_context_stack = saved_ctx;
	if (pg_edata)
		ReThrowError(pg_edata);
	ereport(ERROR, (errcode(sqlstate), errmsg("%s", msg), hint ? errhint("%s", hint) : 0,
	                detail ? errdetail("%s", detail) : 0));
	pg_unreachable();
}

void require_sql_version(const char *function);  // sql_version.hpp

}  // namespace dbkit

// Declares an SQL-callable C function whose C++ body is guarded.
#define DBKIT_FUNCTION(name)                                                    \
	extern "C" {                                                                \
	PG_FUNCTION_INFO_V1(name);                                                  \
	}                                                                           \
	static Datum name##_impl(FunctionCallInfo fcinfo);                          \
	extern "C" Datum name(PG_FUNCTION_ARGS) {                                   \
		return dbkit::Guard(#name, [fcinfo]() {                                 \
			dbkit::require_sql_version(#name);                                  \
			return name##_impl(fcinfo);                                         \
		});                                                                     \
	}                                                                           \
	static Datum name##_impl(FunctionCallInfo fcinfo)
