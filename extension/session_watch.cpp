#include <fmt/format.h>

#include "session_watch.hpp"

#include "core/text.hpp"
#include "touched.hpp"
#include "errcodes.hpp"
#include "execute.hpp"

namespace dbkit {

namespace {
std::string role_name(Oid id) {
	const char *n = PgCall([&]() noexcept { return GetUserNameFromId(id, true); });
	return n ? std::string(n) : "role " + std::to_string(id);
}
}  // namespace

SessionWatch::State SessionWatch::now() {
	return State{GetUserId(), GetSessionUserId(), XactReadOnly, DefaultXactReadOnly, pg_get_client_encoding()};
}

SessionWatch::SessionWatch() : before_(now()), last_(before_) {
	if (SessionReplicationRole != SESSION_REPLICATION_ROLE_ORIGIN)
		touched_blind();
}

void SessionWatch::after(const PlannedStatement &s) {
	// SET session_replication_role = replica (a backfill idiom): the event triggers did
	// not see this statement, so the run's reference is read in full
	if (SessionReplicationRole != SESSION_REPLICATION_ROLE_ORIGIN)
		touched_blind();
	State n = now();
	if (n == last_)
		return;
	last_ = n;
	changer_ = s.number;
	changer_offset_ = s.file_offset;
	changer_command_ = s.command;
}

void SessionWatch::check(const core::Migration &m) const {
	State n = now();
	if (n == before_)
		return;
	std::string what, fix;
	if (n.session_user != before_.session_user) {
		what = fmt::format("the session user from {} to {}", role_name(before_.session_user), role_name(n.session_user));
		fix = "End the migration with RESET SESSION AUTHORIZATION.";
	} else if (n.user != before_.user) {
		what = fmt::format("the current user from {} to {}", role_name(before_.user), role_name(n.user));
		fix = "End the migration with RESET ROLE (SET ROLE x; ... ; RESET ROLE), or give the objects to the role with "
		      "ALTER ... OWNER TO instead of creating them as it.";
	} else if (n.client_encoding != before_.client_encoding) {
		// the next call's folder (and so its hashes) would be decoded in that encoding
		what = fmt::format("client_encoding from {} to {}", pg_encoding_to_char(before_.client_encoding),
		                   pg_encoding_to_char(n.client_encoding));
		fix = fmt::format("Remove the statement, or end the migration with SET client_encoding = '{}': dbkit sends "
		                  "every migration's text, and reads its hashes, as {}; the files are read as they are.",
		                  pg_encoding_to_char(before_.client_encoding), pg_encoding_to_char(before_.client_encoding));
	} else if (n.xact_read_only != before_.xact_read_only) {
		what = "the transaction to read-only (transaction_read_only)";
		fix = "Remove the statement: a read-only transaction cannot be made read-write again, and dbkit writes its "
		      "history in it. To run code read-only, put it in a function declared with SET "
		      "transaction_read_only = on, which confines the setting to the call.";
	} else {
		what = fmt::format("default_transaction_read_only to {}", n.default_read_only ? "on" : "off");
		fix = fmt::format("End the migration with SET default_transaction_read_only = {}; for future sessions use "
		                  "ALTER DATABASE / ALTER ROLE ... SET default_transaction_read_only, which leaves this one "
		                  "alone.",
		                  before_.default_read_only ? "on" : "off");
	}
	throw Error(DBKIT_STATEMENT_REFUSED,
	            fmt::format("migration {}, statement {} (line {}): {} changed {} and the migration ends without "
	                        "changing it back; dbkit records each migration in the same session, right after it",
	                        m.file, changer_, core::line_at(m.sql, changer_offset_), changer_command_, what),
	            fix + fmt::format(" Nothing of {} was applied.", m.file));
}

}  // namespace dbkit
