// dbkit studio: the HTTP server, its token check, the page and the connection pools.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

#include <httplib.h>
#include <fmt/format.h>

#include "studio.hpp"
#include "studio_assets.hpp"
#include "../exit_codes.hpp"
#include "../report.hpp"
#include "../session.hpp"

namespace dbkit::client::studio {

// ---------------------------------------------------------------- pool

Pool::Lease Pool::acquire() {
	std::unique_lock<std::mutex> lk(mu_);
	cv_.wait(lk, [&] { return !idle_.empty() || open_ < max_; });
	if (!idle_.empty()) {
		auto c = std::move(idle_.back());
		idle_.pop_back();
		return Lease(this, std::move(c));
	}
	++open_;
	lk.unlock();
	try {
		auto c = std::make_unique<Connection>(url_);
		if (setup_)
			setup_(*c);
		return Lease(this, std::move(c));
	} catch (...) {
		std::lock_guard<std::mutex> g(mu_);
		--open_;
		cv_.notify_one();
		throw;
	}
}

void Pool::release(std::unique_ptr<Connection> c, bool broken) {
	std::lock_guard<std::mutex> g(mu_);
	if (broken) {
		c.reset();
		--open_;
	} else {
		idle_.push_back(std::move(c));
	}
	cv_.notify_one();
}

// ---------------------------------------------------------------- helpers

void send_json(httplib::Response &res, const nlohmann::json &j, int status) {
	res.status = status;
	res.set_content(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json; charset=utf-8");
}

void send_error(httplib::Response &res, int status, const std::string &message, const std::string &hint) {
	nlohmann::json e = {{"message", message}};
	if (!hint.empty())
		e["hint"] = hint;
	send_json(res, {{"ok", false}, {"error", e}}, status);
}

nlohmann::json error_json(const ServerError &e) {
	nlohmann::json j = {{"message", e.message}, {"sqlstate", e.sqlstate}};
	if (!e.detail.empty()) j["detail"] = e.detail;
	if (!e.hint.empty()) j["hint"] = e.hint;
	if (!e.context.empty()) j["context"] = e.context;
	if (e.position) j["position"] = e.position;
	if (!e.internal_query.empty()) j["internal_query"] = e.internal_query;
	if (e.internal_position) j["internal_position"] = e.internal_position;
	return j;
}

nlohmann::json body_json(const httplib::Request &req) {
	auto j = nlohmann::json::parse(req.body, nullptr, false);
	if (j.is_discarded() || !j.is_object())
		throw std::invalid_argument("the request body is not a JSON object");
	return j;
}

nlohmann::json str_or_null(const Result &r, int row, int col) {
	return r.null(row, col) ? nlohmann::json() : nlohmann::json(r.get(row, col));
}

nlohmann::json num_or_null(const Result &r, int row, int col) {
	if (r.null(row, col))
		return nlohmann::json();
	try {
		return nlohmann::json(std::stod(r.get(row, col)));
	} catch (...) {
		return nlohmann::json();
	}
}

nlohmann::json parsed_or_null(const Result &r, int row, int col) {
	if (r.null(row, col))
		return nlohmann::json();
	auto j = nlohmann::json::parse(r.get(row, col), nullptr, false);
	return j.is_discarded() ? nlohmann::json() : j;
}

std::shared_ptr<const FolderCache::Read> read_folder_cached(const Context &ctx, bool snapshots, std::string &why) {
	if (!ctx.folder)
		return nullptr;
	try {
		return ctx.folder->get(snapshots);
	} catch (const std::exception &e) {
		why = e.what();
		return nullptr;
	}
}

nlohmann::json rows_array(const Result &r, size_t max_bytes, bool &truncated, int from, int cols) {
	nlohmann::json rows = nlohmann::json::array();
	int n = cols < 0 ? r.cols() : cols;
	size_t bytes = 0;
	for (int i = from; i < r.rows(); ++i) {
		nlohmann::json row = nlohmann::json::array();
		for (int k = 0; k < n; ++k) {
			if (r.null(i, k)) {
				row.push_back(nullptr);
				continue;
			}
			std::string v = r.get(i, k);
			bytes += v.size() + 4;
			row.push_back(std::move(v));
		}
		if (bytes > max_bytes && !rows.empty()) {
			truncated = true;
			break;
		}
		rows.push_back(std::move(row));
	}
	return rows;
}

std::vector<std::string> split_qualified(const std::string &s, size_t *end) {
	std::vector<std::string> parts;
	size_t i = 0;
	for (;;) {
		std::string part;
		if (i < s.size() && s[i] == '"') {
			++i;
			for (;;) {
				if (i >= s.size())
					return {};
				if (s[i] == '"') {
					if (i + 1 < s.size() && s[i + 1] == '"') {
						part += '"';
						i += 2;
						continue;
					}
					++i;
					break;
				}
				part += s[i++];
			}
		} else {
			while (i < s.size() && s[i] != '.' && s[i] != '(' && s[i] != ' ' && s[i] != '"')
				part += s[i++];
			if (part.empty())
				return {};
		}
		parts.push_back(part);
		if (i < s.size() && s[i] == '.') {
			++i;
			continue;
		}
		break;
	}
	if (end)
		*end = i;
	else if (i != s.size())
		return {};
	return parts;
}

// ---------------------------------------------------------------- server

namespace {

std::string random_token() {
	unsigned char b[16];
	int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || ::read(fd, b, sizeof b) != static_cast<ssize_t>(sizeof b)) {
		if (fd >= 0)
			::close(fd);
		throw std::runtime_error("cannot read /dev/urandom for the studio's token");
	}
	::close(fd);
	std::string out;
	for (unsigned char c : b)
		out += fmt::format("{:02x}", c);
	return out;
}

bool same(const std::string &a, const std::string &b) {  // constant time for equal lengths
	if (a.size() != b.size())
		return false;
	unsigned char d = 0;
	for (size_t i = 0; i < a.size(); ++i)
		d |= static_cast<unsigned char>(a[i] ^ b[i]);
	return d == 0;
}

std::string asset(const unsigned char *p, size_t n) { return std::string(reinterpret_cast<const char *>(p), n); }

// The page: one HTML document with the stylesheet and the scripts inlined, so
// that the one request carrying ?token= is the only one that is not an API call.
std::string page(const Context &ctx, const std::string &nonce) {
	std::string html = asset(assets::index_html, assets::index_html_size);
	auto put = [&](const std::string &mark, const std::string &text) {
		auto at = html.find(mark);
		if (at != std::string::npos)
			html.replace(at, mark.size(), text);
	};
	put("<!--STYLE-->", "<style>\n" + asset(assets::app_css, assets::app_css_size) + "</style>");
	// schema.js first: app.js starts the page and its routes name the views of both.
	auto script = [&](const unsigned char *p, size_t n) { return "<script nonce=\"" + nonce + "\">\n" + asset(p, n) + "</script>"; };
	put("<!--SCRIPT-->", script(assets::schema_js, assets::schema_js_size) + script(assets::app_js, assets::app_js_size));
	return html;
}

// The browser gets a file that redirects to the URL, not the URL: a command line is
// visible to every local user (ps), and the token lets its bearer use this studio's role.
// The file is in a directory only this user can read, removed when the studio stops.
// Returns that directory ("" when it could not be written: the page is not opened).
std::string open_browser(const std::string &url) {
	char dir[] = "/tmp/dbkit-studio.XXXXXX";
	if (!mkdtemp(dir))
		return "";
	std::string file = std::string(dir) + "/open.html";
	int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
	std::string html = fmt::format("<!doctype html><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"0;url={}\">"
	                               "<title>dbkit studio</title><a href=\"{}\">dbkit studio</a>\n",
	                               url, url);
	bool written = fd >= 0 && ::write(fd, html.data(), html.size()) == static_cast<ssize_t>(html.size());
	if (fd >= 0)
		::close(fd);
	if (!written) {
		::unlink(file.c_str());
		::rmdir(dir);
		return "";
	}
	pid_t pid = fork();
	if (pid == 0) {
		int null = ::open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execlp("xdg-open", "xdg-open", file.c_str(), static_cast<char *>(nullptr));
		_exit(127);
	}
	return dir;
}

}  // namespace

int run(Options opt) {
	Common common;
	common.url = opt.url;
	Session s;
	if (int rc = open_session(common, s))
		return rc;
	auto ctx = std::make_unique<Context>();
	ctx->opt = opt;
	ctx->schema = s.schema;
	ctx->database = s.conn->describe();
	{
		ServerError err;
		auto v = s.conn->query("SELECT extversion FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'dbkit'::pg_catalog.name", {}, err);
		ctx->version = v && v->rows() ? v->get(0, 0) : "?";
	}
	s.conn.reset();
	if (!opt.dir.empty())
		ctx->folder = std::make_unique<FolderCache>(opt.dir);
	long timeout = opt.statement_timeout_ms;
	ctx->meta = std::make_unique<Pool>(opt.url, [timeout](Connection &c) {
		ServerError err;
		// dbkit's functions: the same limit, but never below a minute (a big schema's drift).
		c.query("SELECT pg_catalog.set_config('statement_timeout', $1, false), "
		        "pg_catalog.set_config('application_name', 'dbkit studio', false)",
		        {std::to_string(std::max(timeout, 60000L))}, err);
	}, 3);
	// jit off: the console reads a page of a cursor, but JIT is planned for the whole result; loading
	// LLVM in a new backend took 1 to 3 s here, all of it inside the statement timeout, for 50 rows.
	ctx->user = std::make_unique<Pool>(opt.url, [timeout](Connection &c) {
		ServerError err;
		if (!c.query("SELECT pg_catalog.set_config('default_transaction_read_only', 'on', false), "
		             "pg_catalog.set_config('jit', 'off', false), "
		             "pg_catalog.set_config('statement_timeout', $1, false), "
		             "pg_catalog.set_config('idle_in_transaction_session_timeout', '60000', false), "
		             "pg_catalog.set_config('application_name', 'dbkit studio', false)",
		             {std::to_string(timeout)}, err))
			throw ConnectError("cannot set up a read-only session: " + err.message);
	}, 3);

	std::string token = opt.token.empty() ? random_token() : opt.token;
	httplib::Server srv;
	srv.set_payload_max_length(1024 * 1024);
	srv.set_keep_alive_timeout(30);

	srv.set_pre_routing_handler([&ctx, token](const httplib::Request &req, httplib::Response &res) {
		// Every response: nothing cached, nothing framed, no referrer (the URL holds the token), no CORS.
		res.set_header("Cache-Control", "no-store");
		res.set_header("X-Content-Type-Options", "nosniff");
		res.set_header("X-Frame-Options", "DENY");
		res.set_header("Referrer-Policy", "no-referrer");
		std::string given = req.path == "/" ? req.get_param_value("token") : req.get_header_value("X-Dbkit-Token");
		if (!same(given, token)) {
			send_error(res, 401, "missing or wrong token",
			           "Open the URL that `dbkit studio` printed when it started (it carries ?token=...).");
			return httplib::Server::HandlerResponse::Handled;
		}
		return httplib::Server::HandlerResponse::Unhandled;
	});
	srv.Get("/", [&ctx](const httplib::Request &, httplib::Response &res) {
		std::string nonce = random_token();
		res.set_header("Content-Security-Policy",
		               "default-src 'none'; script-src 'nonce-" + nonce + "'; style-src 'unsafe-inline'; "
		               "img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
		// Through a provider of known length, which httplib never compresses: it would
		// brotli a text/html body at the highest quality for any browser, 100 ms and more
		// per page load for 40 KB that a local connection carries in no time.
		auto html = std::make_shared<const std::string>(page(*ctx, nonce));
		res.set_content_provider(html->size(), "text/html; charset=utf-8",
		                         [html](size_t offset, size_t length, httplib::DataSink &sink) {
			                         return sink.write(html->data() + offset, length);
		                         });
	});
	srv.Get("/api/info", [&ctx](const httplib::Request &, httplib::Response &res) {
		send_json(res, {{"ok", true}, {"database", ctx->database}, {"version", ctx->version}, {"dir", ctx->opt.dir},
		                {"allow_edit", ctx->opt.allow_edit}, {"statement_timeout_ms", ctx->opt.statement_timeout_ms},
		                {"max_rows", ctx->opt.max_rows}, {"max_bytes", ctx->opt.max_bytes}});
	});
	add_migration_routes(srv, *ctx);
	add_meta_routes(srv, *ctx);
	add_data_routes(srv, *ctx);
	add_query_routes(srv, *ctx);
	srv.set_exception_handler([](const httplib::Request &, httplib::Response &res, std::exception_ptr ep) {
		std::string what = "internal error";
		try {
			std::rethrow_exception(ep);
		} catch (const ConnectError &e) {
			what = std::string("cannot connect: ") + e.what();
		} catch (const std::exception &e) {
			what = e.what();
		} catch (...) {
		}
		send_error(res, 500, what);
	});
	srv.set_error_handler([](const httplib::Request &, httplib::Response &res) {
		if (res.body.empty())
			send_error(res, res.status, res.status == 404 ? "no such page" : "request failed");
	});

	int port = opt.port;
	if (port == 0) {
		port = srv.bind_to_any_port(opt.host);
		if (port <= 0) {
			fmt::print(stderr, "dbkit: cannot listen on {}\n", opt.host);
			return kUsage;
		}
	} else if (!srv.bind_to_port(opt.host, port)) {
		fmt::print(stderr, "dbkit: cannot listen on {}:{} (in use?)\n  {:<8} {}\n", opt.host, port, "hint",
		           "Pick another port with --port P (--port 0 picks a free one).");
		return kUsage;
	}
	if (opt.host != "127.0.0.1" && opt.host != "localhost" && opt.host != "::1")
		fmt::print(stderr,
		           "dbkit: warning: studio listens on {}, not only on this machine: anyone who can reach it and "
		           "learns the token can read {}{}\n",
		           opt.host, ctx->database, opt.allow_edit ? " and change its data" : "");
	std::string host = opt.host.find(':') != std::string::npos ? "[" + opt.host + "]" : opt.host;
	std::string url = fmt::format("http://{}:{}/?token={}", host, port, token);
	fmt::print("dbkit studio for {} ({}{})\n  {}\nPress Ctrl-C to stop.\n", ctx->database,
	           opt.allow_edit ? "edits allowed" : "read-only", opt.dir.empty() ? "" : ", folder " + opt.dir, url);
	std::fflush(stdout);
	std::string opened;
	if (opt.open && (opened = open_browser(url)).empty())
		fmt::print(stderr, "dbkit: warning: could not write the page that opens the browser; open the URL above\n");

	// SIGINT/SIGTERM stop the server from a thread of its own (httplib's stop() is not signal-safe).
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, nullptr);
	signal(SIGPIPE, SIG_IGN);
	std::thread waiter([&] {
		int sig = 0;
		sigwait(&set, &sig);
		srv.stop();
	});
	srv.listen_after_bind();
	pthread_kill(waiter.native_handle(), SIGTERM);
	waiter.join();
	if (!opened.empty()) {
		::unlink((opened + "/open.html").c_str());
		::rmdir(opened.c_str());
	}
	return kOk;
}

}  // namespace dbkit::client::studio
