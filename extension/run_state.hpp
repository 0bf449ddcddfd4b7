#pragma once
// Whether this backend is inside a dbkit run (apply or repair): the DDL audit
// ignores what dbkit itself executes. Reset at transaction end in any case.
namespace dbkit {

bool in_run();
// A non-transactional migration spans transactions: the flag lasts until cleared.
void set_session_run(bool on);
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
