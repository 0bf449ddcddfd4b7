#pragma once
// Whether this backend is inside a dbkit run (apply or repair): the DDL audit
// ignores what dbkit itself executes. Reset at transaction end in any case.
#include <string>
#include <vector>

namespace dbkit {

// Inside a dbkit run, or running one of the statements a non-transactional run
// handed out (the client sends each one as its own query).
bool in_run();
// A non-transactional migration spans transactions: the statements handed out
// to the client stay known until cleared (finish, a failed step, an error).
// Only a query whose text is exactly one of them is dbkit's own; any other DDL
// of the session is audited as usual.
void set_session_statements(std::vector<std::string> stmts);
void add_session_statement(const std::string &stmt);
void clear_session_statements();
bool is_session_statement(const std::string &stmt);
bool audit_enabled();  // setting dbkit.audit

class RunScope {
public:
	RunScope();
	~RunScope();
	RunScope(const RunScope &) = delete;
	RunScope &operator=(const RunScope &) = delete;
};

void init_run_state();  // from _PG_init

}  // namespace dbkit
