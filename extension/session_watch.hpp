#pragma once
// Issue 17 item 7: a migration that leaves the session as another role
// (SET ROLE, SET SESSION AUTHORIZATION) or read-only (SET transaction_read_only,
// SET default_transaction_read_only) breaks dbkit's own bookkeeping, which runs
// right after it in the same session. After each statement the four values are
// compared (plain C reads, no SQL); at the end of the migration, if they differ
// from before it, the run stops naming the statement that last changed them.
#include <string>
#include <string_view>

#include "core/folder.hpp"
#include "guard.hpp"

namespace dbkit {

struct PlannedStatement;

class SessionWatch {
public:
	SessionWatch();
	void after(const PlannedStatement &s);  // after each statement of the migration
	// Throws DK005 when the migration leaves the session changed.
	void check(const core::Migration &m) const;

private:
	struct State {
		Oid user, session_user;
		bool xact_read_only, default_read_only;
		int client_encoding;
		bool operator==(const State &o) const {
			return user == o.user && session_user == o.session_user && xact_read_only == o.xact_read_only &&
			       default_read_only == o.default_read_only && client_encoding == o.client_encoding;
		}
	};
	static State now();
	State before_, last_;
	int changer_ = 0;  // number of the statement that last changed the state
	size_t changer_offset_ = 0;
	std::string changer_command_;
};

}  // namespace dbkit
