#pragma once
// Where a command's text goes: this thread's stdout and stderr. Normally the
// process's own; a fleet worker (client/fleet.cpp) points its thread at memory
// while it runs a command against one target, so that targets running side by
// side never interleave their lines.
#include <cstdio>
#include <string>

namespace dbkit::client {

FILE *out_stream();  // stdout, or this thread's capture
FILE *err_stream();  // stderr, or this thread's capture

// While alive, out_stream() and err_stream() of the thread that made it write
// into memory; the destructor puts back what was there before.
class CapturedOutput {
public:
	CapturedOutput();
	~CapturedOutput();
	CapturedOutput(const CapturedOutput &) = delete;
	CapturedOutput &operator=(const CapturedOutput &) = delete;
	std::string out();  // everything written to out_stream() so far
	std::string err();  // everything written to err_stream() so far

private:
	FILE *out_ = nullptr, *err_ = nullptr, *prev_out_ = nullptr, *prev_err_ = nullptr;
	char *out_buf_ = nullptr, *err_buf_ = nullptr;
	size_t out_len_ = 0, err_len_ = 0;
};

}  // namespace dbkit::client
