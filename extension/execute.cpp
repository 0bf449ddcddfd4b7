#include <fmt/format.h>

#include "execute.hpp"

#include <algorithm>
#include <set>

#include "core/markers.hpp"
#include "core/text.hpp"
#include "errcodes.hpp"
#include "core/enum_fold.hpp"
#include "parse.hpp"
#include "session_watch.hpp"

namespace dbkit {

namespace {

char *pdup(const std::string &s) {
	const char *p = s.c_str();
	return PgCall([&]() noexcept { return pstrdup(p); });
}

// Drops the "SQL statement "..."" entry SPI adds to the context (it may span
// lines): the error shows the statement already.
void strip_spi_context(ErrorData *e, std::string_view stmt) {
	if (!e->context)
		return;
	std::string ctx(e->context);
	std::string needle = "SQL statement \"" + std::string(stmt) + "\"";
	if (size_t at = ctx.find(needle); at != std::string::npos)
		ctx.erase(at, needle.size());
	while (!ctx.empty() && ctx.back() == '\n')
		ctx.pop_back();
	while (!ctx.empty() && ctx.front() == '\n')
		ctx.erase(0, 1);
	e->context = ctx.empty() ? nullptr : pdup(ctx);
}

// "migration F, statement N (line L)": the error context line of a running migration statement.
std::string statement_where(const core::Migration &m, const PlannedStatement &s) {
	return fmt::format("migration {}, statement {} (line {})", m.file, s.number, core::line_at(m.sql, s.file_offset));
}

void statement_context(void *arg) { errcontext("%s", static_cast<const char *>(arg)); }

// Takes the line statement_context added out of an error's context.
void strip_where_context(ErrorData *e, const std::string &where) {
	if (!e->context)
		return;
	std::string ctx(e->context);
	if (size_t at = ctx.rfind(where); at != std::string::npos && at + where.size() == ctx.size()) {
		ctx.erase(at);
		while (!ctx.empty() && ctx.back() == '\n')
			ctx.pop_back();
		e->context = ctx.empty() ? nullptr : pdup(ctx);
	}
}

std::string next_step(const char *orig_hint, const core::Migration &m) {
	std::string h = orig_hint ? std::string(orig_hint) + "\n" : "";
	// the lock table is full (53200): the file is not wrong, the transaction is too big for the server
	if (h.find("max_locks_per_transaction") != std::string::npos)
		return h + fmt::format("Nothing from this run was applied or recorded. A transaction holds a lock on every "
		                       "table it touches until it ends: run each migration in its own transaction "
		                       "(--transaction each), split {} into smaller migrations, or raise "
		                       "max_locks_per_transaction (a server restart); then run dbkit migrate again.",
		                       m.file);
	return h + fmt::format("Nothing from this run was applied or recorded. Fix {} and run dbkit migrate again.",
	                       m.file);
}

std::string sqlstate_of(const ErrorData *e) { return unpack_sql_state(e->sqlerrcode); }

// A syntax error found while parsing a chunk: report it against the file.
PgError syntax_error(const PgError &err, const core::Migration &m, const core::Chunk &chunk) {
	ErrorData *e = err.edata();
	int pos = e->cursorpos > 0 ? e->cursorpos : e->internalpos;
	size_t at = chunk.offset + (pos > 0 ? core::byte_offset_of_char(chunk.text, pos) : 0);
	// Show the chunk from its first token; shift the position by the characters cut.
	size_t lead = core::skip_space_and_comments(chunk.text, 0);
	if (pos > 0 && lead < chunk.text.size() && core::byte_offset_of_char(chunk.text, pos) >= lead) {
		int cut = 0;
		for (size_t i = 0; i < lead; ++i)
			cut += (static_cast<unsigned char>(chunk.text[i]) & 0xC0) != 0x80;
		pos -= cut;
	} else {
		lead = 0;
	}
	e->message = pdup(fmt::format("migration {}, line {}: {} (SQLSTATE {})", m.file, core::line_at(m.sql, at),
	                              e->message ? e->message : "syntax error", sqlstate_of(e)));
	e->hint = pdup(next_step(e->hint, m));
	if (chunk.text.size() - lead <= 16384) {
		e->internalquery = pdup(std::string(chunk.text.substr(lead)));
		e->internalpos = pos;
	} else {  // a huge chunk is named by file and line, not echoed
		e->internalquery = nullptr;
		e->internalpos = 0;
	}
	e->cursorpos = 0;
	return err;
}

PgError statement_error(const PgError &err, const core::Migration &m, const PlannedStatement &s) {
	ErrorData *e = err.edata();
	strip_where_context(e, statement_where(m, s));
	size_t at = s.file_offset;
	if (e->internalpos > 0)
		at = s.file_offset + core::byte_offset_of_char(s.text, e->internalpos);
	else
		e->internalquery = nullptr;  // no position: the statement is named below
	e->message = pdup(fmt::format("migration {}, statement {} (line {}): {} (SQLSTATE {})", m.file, s.number,
	                              core::line_at(m.sql, at), e->message ? e->message : "error", sqlstate_of(e)));
	if (e->sqlerrcode == ERRCODE_QUERY_CANCELED || e->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE)
		e->hint = pdup(std::string(e->hint ? std::string(e->hint) + "\n" : "") +
		               "Nothing from this run was applied or recorded. The statement was stopped by a timeout, a "
		               "cancel or a lock wait, not by its SQL: run dbkit migrate again, with a larger "
		               "--statement-timeout / --lock-timeout if it needs more time.");
	else if (e->sqlerrcode == ERRCODE_UNSAFE_NEW_ENUM_VALUE_USAGE)  // the file is most likely fine
		e->hint = pdup(
		    "Nothing from this run was applied or recorded. PostgreSQL lets a new enum value be used only after the "
		    "transaction that added it commits. Added by an earlier migration of this run: run dbkit migrate "
		    "--transaction each (each migration commits before the next). Added by this migration: put COMMIT after "
		    "its ALTER TYPE ... ADD VALUE (dbkit then runs the file statement by statement).");
	else
		e->hint = pdup(next_step(e->hint, m));
	if (!e->internalquery && s.text.size() <= 16384) {
		e->internalquery = pdup(std::string(s.text));
		e->internalpos = 0;
	}
	if (s.text.size() > 16384) {  // a huge statement is named by file and line, not echoed
		e->internalquery = nullptr;
		e->internalpos = 0;
	}
	e->cursorpos = 0;
	strip_spi_context(e, s.text);
	return err;
}

Error refused(const core::Migration &m, const PlannedStatement &s, std::string why, std::string hint) {
	return Error(DBKIT_STATEMENT_REFUSED,
	             fmt::format("migration {}, statement {} (line {}): {} {}", m.file, s.number,
	                         core::line_at(m.sql, s.file_offset), s.command,
	                         why),
	             std::move(hint) + " Nothing was applied.");
}

}  // namespace

std::optional<Refusal> refusal_of(const Statement &st) {
	if (!st.touches_dbkit.empty())
		return Refusal{"migration.dbkit_objects",
		               st.touches_dbkit + ", which dbkit needs to record this migration",
		               "Remove the statement from the migration. To remove dbkit, run DROP EXTENSION dbkit by hand "
		               "after the last deploy; dbkit's tables are changed only by dbkit itself."};
	if (st.copy_stdio)
		return Refusal{"migration.copy_stdio", "reads from or writes to the client, which a migration cannot do",
		               "Load data with INSERT ... SELECT or COPY from a server file instead."};
	if (st.needs_no_transaction)
		return Refusal{"migration.no_transaction", "cannot run inside a transaction block",
		               st.command.find("CONCURRENTLY") != std::string::npos
		                   ? "Drop CONCURRENTLY (the statement then takes a stronger lock for its duration), or run "
		                     "the statement outside the migration, by hand or from a maintenance job."
		                   : "Run the statement outside the migration, by hand or from a maintenance job."};
	return std::nullopt;
}

namespace {
// From the first token: leading comments and blank lines belong to no statement.
PlannedStatement planned(int number, const core::Chunk &chunk, const Statement &st) {
	std::string_view text = chunk.text.substr(st.offset, st.length);
	size_t lead = core::skip_space_and_comments(text, 0);
	return PlannedStatement{number,          chunk.offset + st.offset + lead, text.substr(lead), st.command,
	                        st.needs_no_transaction, st.relations, st.index_name, st.index_table, st.if_not_exists,
	                        st.tx, st.begin_options};
}

core::TxShape shape_of(const std::vector<PlannedStatement> &stmts) {
	std::vector<core::TxStatement> tx;
	tx.reserve(stmts.size());
	for (const auto &s : stmts)
		tx.push_back({s.tx, s.begin_options, s.no_transaction});
	return core::transaction_shape(tx);
}

const char *kTxHint =
    "Remove it from the file. dbkit runs every migration in a transaction (a file wrapped in one BEGIN ... COMMIT "
    "runs as that transaction); a file with COMMIT inside runs statement by statement, each BEGIN ... COMMIT block "
    "as one transaction.";
}  // namespace

std::vector<PlannedStatement> plan_statements(const core::Migration &m, core::TxShape *shape_out) {
	std::vector<PlannedStatement> out;
	int number = 0;
	for (const core::Chunk &chunk : core::split_breakpoints(m.sql)) {
		if (core::blank_sql(chunk.text))
			continue;
		std::vector<Statement> stmts;
		try {
			stmts = parse_statements(chunk.text);
		} catch (const PgError &err) {
			throw syntax_error(err, m, chunk);
		}
		for (const Statement &st : stmts) {
			PlannedStatement ps = planned(++number, chunk, st);
			if (auto r = refusal_of(st); r && !r->top_level())
				throw refused(m, ps, r->why, r->hint);
			out.push_back(std::move(ps));
		}
	}
	core::TxShape shape = shape_of(out);
	if (shape.mode == core::TxShape::Mode::Refused)
		throw refused(m, out[shape.at], shape.why, kTxHint);
	if (shape.mode == core::TxShape::Mode::Wrapped) {
		out.pop_back();  // the redundant wrapper: the migration runs in dbkit's transaction
		out.erase(out.begin());
	} else if (shape.mode == core::TxShape::Mode::Blocks) {
		for (size_t i = 0; i < out.size(); ++i)
			out[i].role = shape.roles[i];
	}
	if (shape_out)
		*shape_out = std::move(shape);
	return out;
}

core::TxShape transaction_shape_of(const core::Migration &m) {
	std::vector<PlannedStatement> all;
	int number = 0;
	for (const core::Chunk &chunk : core::split_breakpoints(m.sql)) {
		if (core::blank_sql(chunk.text))
			continue;
		try {
			for (const Statement &st : parse_statements(chunk.text, /*in_subxact=*/true))
				all.push_back(planned(++number, chunk, st));
		} catch (const PgError &) {
			return {};  // check reports the syntax error
		}
	}
	return shape_of(all);
}

bool is_non_transactional(const core::Migration &m, const std::vector<PlannedStatement> &stmts) {
	if (core::read_markers(m.sql).no_transaction)
		return true;
	return std::any_of(stmts.begin(), stmts.end(), [](const PlannedStatement &s) {
		return s.no_transaction || s.tx != core::TxKind::None;  // a wrapper is gone by now: the rest are blocks
	});
}

namespace {
// A parser NOTICE as a finding. PostgreSQL gives no position for them; an identifier
// named in the message is looked up in the chunk for the line.
core::Finding parser_notice_finding(const core::Migration &m, const core::Chunk &chunk, const ParserNotice &n) {
	size_t at = chunk.offset;
	if (size_t q = n.message.find('"'); q != std::string::npos)
		if (size_t e = n.message.find('"', q + 1); e != std::string::npos)
			if (size_t hit = chunk.text.find(n.message.substr(q + 1, e - q - 1)); hit != std::string_view::npos)
				at = chunk.offset + hit;
	int line = core::line_at(m.sql, at);
	if (n.sqlerrcode == ERRCODE_NAME_TOO_LONG)
		return {core::Severity::Warning, "identifier.truncated", m.tag,
		        fmt::format("migration {} (line {}): {}", m.file, line, n.message),
		        "PostgreSQL keeps the first 63 bytes of a name: two names that share them become one. Shorten the "
		        "name in the schema (drizzle's index/constraint name option) if that matters; drift compares the "
		        "truncated name."};
	return {core::Severity::Warning, "migration.parser_notice", m.tag,
	        fmt::format("migration {} (line {}): {}", m.file, line, n.message),
	        "PostgreSQL's parser warns about this statement; it still runs."};
}
}  // namespace

std::vector<core::Finding> statement_findings(const core::Migration &m) {
	std::vector<core::Finding> out;
	int number = 0;
	std::vector<PlannedStatement> all;  // for the file's transaction control
	std::set<std::string> noticed;  // each parser notice once per file
	for (const core::Chunk &chunk : core::split_breakpoints(m.sql)) {
		if (core::blank_sql(chunk.text))
			continue;
		std::vector<Statement> stmts;
		ParserNotices notices;
		try {
			stmts = parse_statements(chunk.text, /*in_subxact=*/true);
			for (const ParserNotice &n : notices.take())
				if (noticed.insert(n.message).second)
					out.push_back(parser_notice_finding(m, chunk, n));
		} catch (const PgError &err) {
			ErrorData *e = syntax_error(err, m, chunk).edata();
			out.push_back({core::Severity::Error, "migration.syntax_error", m.tag, e->message,
			               fmt::format("Fix {} before it is applied; the rest of this chunk was not checked.", m.file)});
			continue;
		}
		for (const Statement &st : stmts) {
			PlannedStatement ps = planned(++number, chunk, st);
			all.push_back(ps);
			// drizzle-kit's DO blocks (before 0.30: every foreign key and enum, guarded by
			// duplicate_object): the statement inside is a string to the parser, so a name
			// it cuts at 63 bytes went unwarned; the clash that cut makes is then swallowed
			// at run time (wundergraph/cosmo's 0091: a foreign key never created)
			std::string text(ps.text.substr(core::skip_space_and_comments(ps.text, 0)));
			if (auto body = core::do_block_body(text))
				if (auto inner = core::statement_in_do_block(*body)) {
					ParserNotices inner_notices;
					try {
						parse_statements(*inner, /*in_subxact=*/true);
					} catch (const PgError &) {
						// its syntax is PL/pgSQL's business when the block runs
					}
					for (const ParserNotice &n : inner_notices.take())
						if (noticed.insert(n.message).second)
							out.push_back(parser_notice_finding(m, chunk, n));
				}
			auto r = refusal_of(st);
			if (r && !r->top_level())
				out.push_back({core::Severity::Error, r->code, m.tag,
				               fmt::format("migration {}, statement {} (line {}): {} {}", m.file, ps.number,
				                           core::line_at(m.sql, ps.file_offset), ps.command, r->why),
				               r->hint});
			else if (st.needs_no_transaction)
				out.push_back({core::Severity::Warning, "migration.no_transaction", m.tag,
				               fmt::format("migration {}, statement {} (line {}): {} cannot run inside a transaction "
				                           "block: dbkit runs this migration statement by statement, outside a "
				                           "transaction",
				                           m.file, ps.number, core::line_at(m.sql, ps.file_offset), ps.command),
				               "Keep it alone in its migration; if it fails half-way, dbkit migrate --resume continues "
				               "from the failed statement."});
		}
	}
	core::TxShape shape = shape_of(all);
	if (shape.mode == core::TxShape::Mode::Refused) {
		// "runs statement by statement" is not what happens to a file that is refused
		out.erase(std::remove_if(out.begin(), out.end(),
		                         [&](const core::Finding &f) { return f.code == "migration.no_transaction" && f.subject == m.tag; }),
		          out.end());
		const PlannedStatement &ps = all[shape.at];
		out.push_back({core::Severity::Error, "migration.transaction_control", m.tag,
		               fmt::format("migration {}, statement {} (line {}): {} {}", m.file, ps.number,
		                           core::line_at(m.sql, ps.file_offset), ps.command, shape.why),
		               kTxHint});
	} else if (shape.mode != core::TxShape::Mode::Plain) {
		bool wrapped = shape.mode == core::TxShape::Mode::Wrapped;
		out.push_back({core::Severity::Warning, wrapped ? "migration.transaction_wrapper" : "migration.own_transactions",
		               m.tag, fmt::format("migration {}: {}", m.file, shape.summary),
		               wrapped ? "Nothing to do; the wrapper may be removed."
		                       : "Prefer a migration per transaction (drizzle-kit generate --custom for the statements "
		                         "after the COMMIT), so that each is applied and recorded whole."});
	}
	return out;
}

void run_statements(const core::Migration &m, const std::vector<PlannedStatement> &stmts, SessionWatch *watch) {
	std::optional<SessionWatch> own;
	if (!watch)
		watch = &own.emplace();
	for (const PlannedStatement &s : stmts) {
		std::string sql(s.text);
		const char *p = sql.c_str();
		// statement_timeout (--statement-timeout, the marker) is a SET LOCAL inside the
		// running dbkit_apply(): PostgreSQL arms it only when a top-level statement starts,
		// so dbkit arms it around each statement itself (never later than the outer one).
		int timeout_ms = StatementTimeout;
		bool outer_active = get_timeout_active(STATEMENT_TIMEOUT);
		TimestampTz outer_at = outer_active ? get_timeout_finish_time(STATEMENT_TIMEOUT) : 0;
		TimestampTz ours = timeout_ms > 0 ? TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms) : 0;
		bool armed = timeout_ms > 0 && (!outer_active || ours < outer_at);
		auto disarm = [&]() {
			if (armed)
				PgCall([&]() noexcept {
					disable_timeout(STATEMENT_TIMEOUT, false);
					if (outer_active)
						enable_timeout_at(STATEMENT_TIMEOUT, outer_at);
				});
		};
		// NOTICEs and WARNINGs the statement raises name it in their context (the client shows
		// it); an error has it taken out again by statement_error, whose message names it already
		std::string where = statement_where(m, s);
		int rc;
		try {
			rc = PgCall([&]() noexcept {
				ErrorContextCallback cb;  // popped by PgCall's PG_CATCH on an error
				cb.callback = statement_context;
				cb.arg = const_cast<char *>(where.c_str());
				cb.previous = error_context_stack;
				error_context_stack = &cb;
				if (armed)
					enable_timeout_at(STATEMENT_TIMEOUT, ours);
				int r = SPI_execute(p, false, 0);
				SPI_freetuptable(SPI_tuptable);
				error_context_stack = cb.previous;
				return r;
			});
		} catch (const PgError &err) {
			disarm();
			throw statement_error(err, m, s);
		}
		disarm();
		if (rc < 0)
			throw Error(DBKIT_STATEMENT_REFUSED,
			            fmt::format("migration {}, statement {}: {} is not supported inside a migration ({})", m.file,
			                        s.number, s.command, SPI_result_code_string(rc)),
			            "Remove the statement from the migration.");
		watch->after(s);
	}
	if (own)
		own->check(m);
}

}  // namespace dbkit
