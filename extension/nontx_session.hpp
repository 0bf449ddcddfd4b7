#pragma once
// What the non-transactional runs (a migration's statements, nontx.cpp; a
// rollback's down file, rollback_nontx.cpp) keep across the client's calls.
#include <cstdint>

#include "progress.hpp"
#include "run_state.hpp"

namespace dbkit {

// Holds the session lock; gives it back unless kept. The statements handed out
// are registered (set_session_statements) only once everything else succeeded.
struct SessionHold {
	bool keep = false;
	SessionHold() {
		clear_session_statements();
		hold_session_lock();  // waits for any other deploy
	}
	~SessionHold() {
		if (keep)
			return;
		clear_session_statements();
		try {
			release_session_lock();
		} catch (...) {
		}
	}
	SessionHold(const SessionHold &) = delete;
	SessionHold &operator=(const SessionHold &) = delete;
};

// The statement a resumed run starts from (0: the run is not a resume): the only
// one that may have completed without its progress row.
void set_nontx_resumed_at(int64_t statement);
int64_t nontx_resumed_at();

}  // namespace dbkit
