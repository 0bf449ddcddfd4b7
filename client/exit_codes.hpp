#pragma once
// One table for every command (README "Exit codes").
namespace dbkit::client {
enum ExitCode : int {
	kOk = 0,             // success; nothing wrong found
	kFailed = 1,         // a migration failed or was refused; nothing from this run remains
	kUsage = 2,          // bad command line, or the folder cannot be read
	kConnection = 3,     // cannot connect, or the dbkit extension is missing
	kDrift = 4,          // drift found (dbkit drift)
	kInvalid = 5,        // validation errors found (dbkit check)
};
}  // namespace dbkit::client
