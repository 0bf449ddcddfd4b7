#include "secrets.hpp"

#include <cctype>

namespace dbkit::core {

bool secret_bearing_command(std::string_view tag) {
	for (std::string_view t : {"CREATE USER MAPPING", "ALTER USER MAPPING", "CREATE SUBSCRIPTION", "ALTER SUBSCRIPTION",
	                           "CREATE SERVER", "ALTER SERVER"})
		if (tag == t)
			return true;
	return false;
}

bool may_hold_password(std::string_view sql) {
	constexpr std::string_view kWord = "password";
	for (size_t i = 0; i + kWord.size() <= sql.size(); ++i) {
		size_t k = 0;
		while (k < kWord.size() && std::tolower(static_cast<unsigned char>(sql[i + k])) == kWord[k])
			++k;
		if (k < kWord.size())
			continue;
		size_t j = i + kWord.size();
		while (j < sql.size() && (sql[j] == ' ' || sql[j] == '\t' || sql[j] == '\n' || sql[j] == '\r'))
			++j;
		if (j >= sql.size())
			continue;
		char c = sql[j];
		// PASSWORD 'x', password E'x', PASSWORD $$x$$, password=x in a connection string
		if (c == '\'' || c == '=' || c == '$' ||
		    ((c == 'e' || c == 'E') && j + 1 < sql.size() && sql[j + 1] == '\''))
			return true;
	}
	return false;
}

}  // namespace dbkit::core
