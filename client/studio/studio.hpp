#pragma once
// dbkit studio: a local web page over the extension's SQL functions.
// One HTTP server (cpp-httplib) on 127.0.0.1, a random token on every request,
// two small pools of libpq connections (libpq connections are not thread-safe:
// each request leases one for its whole duration).
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../connection.hpp"
#include "folder_cache.hpp"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace dbkit::client::studio {

struct Options {
	std::optional<std::string> url;
	std::string dir;          // migrations folder ("" when none)
	std::string host = "127.0.0.1";
	int port = 4983;          // 0: any free port
	bool open = false;        // start a browser on the URL
	bool allow_edit = false;  // data edits and a read-write console
	long statement_timeout_ms = 5000;
	int max_rows = 1000;                  // a console page or a data page never exceeds this
	size_t max_bytes = 4 * 1024 * 1024;   // nor this many bytes of values
	std::string token;        // fixed token (tests); empty: random
};

// A fixed set of connections made with the same setup; a lease is exclusive.
class Pool {
public:
	Pool(std::optional<std::string> url, std::function<void(Connection &)> setup, size_t max)
	    : url_(std::move(url)), setup_(std::move(setup)), max_(max) {}

	class Lease {
	public:
		Lease(Pool *p, std::unique_ptr<Connection> c) : pool_(p), conn_(std::move(c)) {}
		Lease(Lease &&) = default;
		~Lease() {
			if (pool_ && conn_)
				pool_->release(std::move(conn_), broken);
		}
		Connection &operator*() { return *conn_; }
		Connection *operator->() { return conn_.get(); }
		bool broken = false;  // drop the connection instead of reusing it

	private:
		Pool *pool_;
		std::unique_ptr<Connection> conn_;
	};

	Lease acquire();  // throws ConnectError

private:
	void release(std::unique_ptr<Connection> c, bool broken);
	std::optional<std::string> url_;
	std::function<void(Connection &)> setup_;
	size_t max_, open_ = 0;
	std::vector<std::unique_ptr<Connection>> idle_;
	std::mutex mu_;
	std::condition_variable cv_;
};

// The last answer of a read-only route with the key it was computed for (the
// database's snapshot and the folder's generation): the same key, the same answer.
struct AnswerCache {
	std::mutex mu;
	std::string key, body;
};

struct Context {
	Options opt;
	std::string schema;    // the extension's schema, quoted
	std::string database;  // user@host:port/db
	std::string version;   // the extension's version
	std::unique_ptr<Pool> meta;  // dbkit's functions (and accept-drift)
	std::unique_ptr<Pool> user;  // data browser and console: read-only by default, statement_timeout
	std::unique_ptr<FolderCache> folder;  // null without --dir
	AnswerCache migrations_answer;
	std::string fn(const char *name) const { return schema + "." + name; }
};

// JSON helpers shared by the routes.
void send_json(httplib::Response &res, const nlohmann::json &j, int status = 200);
void send_error(httplib::Response &res, int status, const std::string &message, const std::string &hint = "");
nlohmann::json error_json(const ServerError &e);
nlohmann::json body_json(const httplib::Request &req);  // throws std::invalid_argument
// A cell as a JSON string, number or parsed JSON; SQL NULL as null.
nlohmann::json str_or_null(const Result &r, int row, int col);
nlohmann::json num_or_null(const Result &r, int row, int col);
nlohmann::json parsed_or_null(const Result &r, int row, int col);
// The --dir folder (nullptr without one; `why` says why when it cannot be read).
std::shared_ptr<const FolderCache::Read> read_folder_cached(const Context &ctx, bool snapshots, std::string &why);
// A result's rows as arrays (null for SQL NULL), stopping at a byte budget.
nlohmann::json rows_array(const Result &r, size_t max_bytes, bool &truncated, int from = 0, int cols = -1);

// Routes, by area.
void add_migration_routes(httplib::Server &srv, Context &ctx);  // the timeline, one migration
void add_meta_routes(httplib::Server &srv, Context &ctx);   // drift, schema
void add_data_routes(httplib::Server &srv, Context &ctx);   // tables, rows, edits
void add_query_routes(httplib::Server &srv, Context &ctx);  // console

// Parses "schema.table" style qualified names as PostgreSQL prints them (quoted
// where needed) into their parts; empty when malformed.
std::vector<std::string> split_qualified(const std::string &s, size_t *end = nullptr);

// Runs the studio until SIGINT/SIGTERM; returns the exit code.
int run(Options opt);

}  // namespace dbkit::client::studio
