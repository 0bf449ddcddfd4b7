#pragma once
// dbkit migrate --backup DIR: pg_dump -Fc of the database before anything is applied.
#include <string>

#include "session.hpp"

namespace dbkit::client {

struct Backup {
	std::string file;
	long long bytes = 0;
	std::string restore;  // the pg_restore command that restores it (into a new database)
};

// Runs pg_dump (found on PATH, run directly, never through a shell) with the
// session's connection parameters in its environment, writing
// DIR/<db>-<UTC timestamp>-<last applied tag>.dump. On failure fills `error`
// with the file, the exit status and pg_dump's stderr, removes the partial file
// and returns false.
bool take_backup(Session &s, const std::string &dir, const std::string &last_tag, Backup &out, std::string &error);

}  // namespace dbkit::client
