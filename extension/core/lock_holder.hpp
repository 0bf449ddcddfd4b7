#pragma once
// dbkit_deploy_lock_holder()'s text, shared by the server that writes it and the client
// that reads it: one line per session holding the deploy lock.
//  - A session:   pid N (user U, application A, client C, connected since T, S for D): Q
//  - The worker:  pid N (background worker "dbkit reference re-read", user U, ...)
// The worker is told by pg_stat_activity.backend_type, which only a registered background
// worker has; a session can take any application_name, so that is never what marks it.
#include <string>
#include <string_view>

namespace dbkit::core {

// The type (and application_name) of the background worker that re-reads a deploy's
// objects after its commit; it holds the lock briefly, and the client waits for it quietly.
inline constexpr const char *kSettleWorkerType = "dbkit reference re-read";

// What follows "pid N " on the worker's line.
std::string settle_worker_holder_mark();

// Control characters in a name (a role may be called anything, newlines included) as '?',
// so that no name can start a line of its own in the text.
std::string holder_field(std::string_view name);

// True when every line of the text is the worker's (and there is at least one).
bool only_settle_worker(std::string_view holders);

}  // namespace dbkit::core
