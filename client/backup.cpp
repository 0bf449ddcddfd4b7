#include "backup.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <vector>

#include <fmt/format.h>

extern char **environ;

namespace dbkit::client {

namespace fs = std::filesystem;

namespace {

// A name part of a file name: letters, digits, '-', '_' and '.', anything else as '_'.
std::string file_part(const std::string &s) {
	std::string out;
	for (char ch : s) {
		unsigned char c = static_cast<unsigned char>(ch);
		out += (std::isalnum(c) || c == '-' || c == '_' || c == '.') && c < 0x80 ? ch : '_';
	}
	if (out.empty() || out.front() == '.')
		out.insert(0, "_");
	return out.substr(0, 100);
}

// Single-quotes a word for a POSIX shell, for the command we print.
std::string shell_word(const std::string &s) {
	bool plain = !s.empty();
	for (char c : s)
		plain &= std::isalnum(static_cast<unsigned char>(c)) || strchr("-_./=:@", c) != nullptr;
	if (plain)
		return s;
	std::string out = "'";
	for (char c : s)
		out += c == '\'' ? std::string("'\\''") : std::string(1, c);
	return out + "'";
}

}  // namespace

bool take_backup(Session &s, const std::string &dir, const std::string &last_tag, Backup &out, std::string &error) {
	ServerError err;
	auto r = s.conn->query("SELECT pg_catalog.current_database()", {}, err);
	if (!r) {
		error = "cannot read the database name: " + err.message;
		return false;
	}
	std::string db = r->get(0, 0);
	std::error_code ec;
	fs::create_directories(dir, ec);
	if (ec || !fs::is_directory(dir)) {
		error = fmt::format("backup directory {} cannot be created: {}", dir, ec ? ec.message() : "not a directory");
		return false;
	}
	std::time_t now = std::time(nullptr);
	std::tm tm{};
	gmtime_r(&now, &tm);
	char stamp[32];
	std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
	fs::path file = fs::path(dir) / fmt::format("{}-{}-{}.dump", file_part(db), stamp,
	                                            last_tag.empty() ? std::string("empty") : file_part(last_tag));
	if (fs::exists(file, ec)) {
		error = fmt::format("backup file {} exists already; not overwriting it", file.string());
		return false;
	}

	// the child's environment: ours, with the session's connection parameters on top
	std::map<std::string, std::string> env;
	for (char **e = environ; *e; ++e) {
		std::string kv(*e);
		size_t eq = kv.find('=');
		if (eq != std::string::npos)
			env[kv.substr(0, eq)] = kv.substr(eq + 1);
	}
	for (const auto &[k, v] : s.conn->libpq_env())
		env[k] = v;
	std::vector<std::string> env_strings;
	for (const auto &[k, v] : env)
		env_strings.push_back(k + "=" + v);
	std::vector<char *> envp;
	for (auto &e : env_strings)
		envp.push_back(e.data());
	envp.push_back(nullptr);

	std::string file_s = file.string();
	std::vector<std::string> args = {"pg_dump", "--format=custom", "--file=" + file_s, "--no-password"};
	std::vector<char *> argv;
	for (auto &a : args)
		argv.push_back(a.data());
	argv.push_back(nullptr);

	int pipefd[2];
	if (pipe(pipefd) != 0) {
		error = fmt::format("cannot start pg_dump: {}", strerror(errno));
		return false;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	posix_spawn_file_actions_addclose(&fa, pipefd[0]);
	posix_spawn_file_actions_addclose(&fa, pipefd[1]);
	pid_t pid = 0;
	int rc = posix_spawnp(&pid, "pg_dump", &fa, nullptr, argv.data(), envp.data());
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (rc != 0) {
		close(pipefd[0]);
		error = fmt::format("cannot run pg_dump to write {}: {} (is pg_dump on PATH?)", file_s, strerror(rc));
		return false;
	}
	std::string stderr_text;
	char buf[4096];
	for (;;) {
		ssize_t n = read(pipefd[0], buf, sizeof buf);
		if (n > 0)
			stderr_text.append(buf, static_cast<size_t>(n));
		else if (n < 0 && errno == EINTR)
			continue;
		else
			break;
	}
	close(pipefd[0]);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
	}
	while (!stderr_text.empty() && (stderr_text.back() == '\n' || stderr_text.back() == ' '))
		stderr_text.pop_back();
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fs::remove(file, ec);  // a partial dump must not pass for a backup
		error = fmt::format("pg_dump {} writing {}{}",
		                    WIFEXITED(status) ? fmt::format("exited with status {}", WEXITSTATUS(status))
		                                      : fmt::format("was killed by signal {}", WTERMSIG(status)),
		                    file_s, stderr_text.empty() ? "" : ": " + stderr_text);
		return false;
	}
	out.file = file_s;
	out.bytes = static_cast<long long>(fs::file_size(file, ec));
	if (ec) {
		error = fmt::format("pg_dump succeeded but {} cannot be read: {}", file_s, ec.message());
		return false;
	}
	std::string target = file_part(db) + "_restored";
	out.restore = fmt::format("createdb {} && pg_restore --dbname={} {}", shell_word(target), shell_word(target),
	                          shell_word(file_s));
	return true;
}

}  // namespace dbkit::client
