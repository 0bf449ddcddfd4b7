#include "output.hpp"

#include <cstdlib>
#include <stdexcept>

namespace dbkit::client {

namespace {
thread_local FILE *t_out = nullptr;  // nullptr: the process's stdout
thread_local FILE *t_err = nullptr;
}  // namespace

FILE *out_stream() { return t_out ? t_out : stdout; }
FILE *err_stream() { return t_err ? t_err : stderr; }

CapturedOutput::CapturedOutput() {
	out_ = open_memstream(&out_buf_, &out_len_);
	err_ = open_memstream(&err_buf_, &err_len_);
	if (!out_ || !err_) {
		if (out_)
			std::fclose(out_);
		if (err_)
			std::fclose(err_);
		std::free(out_buf_);
		std::free(err_buf_);
		throw std::runtime_error("cannot capture a command's output: open_memstream failed");
	}
	prev_out_ = t_out;
	prev_err_ = t_err;
	t_out = out_;
	t_err = err_;
}

CapturedOutput::~CapturedOutput() {
	t_out = prev_out_;
	t_err = prev_err_;
	std::fclose(out_);
	std::fclose(err_);
	std::free(out_buf_);
	std::free(err_buf_);
}

std::string CapturedOutput::out() {
	std::fflush(out_);
	return std::string(out_buf_ ? out_buf_ : "", out_len_);
}

std::string CapturedOutput::err() {
	std::fflush(err_);
	return std::string(err_buf_ ? err_buf_ : "", err_len_);
}

}  // namespace dbkit::client
