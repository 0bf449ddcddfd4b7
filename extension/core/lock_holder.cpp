#include "lock_holder.hpp"

namespace dbkit::core {

std::string settle_worker_holder_mark() {
	return std::string("(background worker \"") + kSettleWorkerType + "\",";
}

std::string holder_field(std::string_view name) {
	std::string out(name);
	for (char &c : out)
		if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
			c = '?';
	return out;
}

namespace {
// "pid <digits> <mark>"
bool is_worker_line(std::string_view line, std::string_view mark) {
	constexpr std::string_view pid = "pid ";
	if (line.substr(0, pid.size()) != pid)
		return false;
	size_t at = pid.size();
	size_t digits = at;
	while (digits < line.size() && line[digits] >= '0' && line[digits] <= '9')
		++digits;
	if (digits == at || digits >= line.size() || line[digits] != ' ')
		return false;
	return line.substr(digits + 1, mark.size()) == mark;
}
}  // namespace

bool only_settle_worker(std::string_view holders) {
	if (holders.empty())
		return false;
	const std::string mark = settle_worker_holder_mark();
	for (size_t from = 0;;) {
		size_t end = holders.find('\n', from);
		std::string_view line = holders.substr(from, end == std::string_view::npos ? std::string_view::npos : end - from);
		if (!is_worker_line(line, mark))
			return false;
		if (end == std::string_view::npos)
			return true;
		from = end + 1;
	}
}

}  // namespace dbkit::core
