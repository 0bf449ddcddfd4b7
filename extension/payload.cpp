#include "payload.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "errcodes.hpp"

namespace dbkit {

namespace {

constexpr const char *kPayloadHint =
    "Pass the folder as the dbkit client builds it: {\"journal\": \"<text of meta/_journal.json>\", \"files\": "
    "{\"0000_name.sql\": \"<file text>\", ...}}.";

std::optional<JsonbValue> find_key(JsonbContainer *c, const char *key) {
	JsonbValue k;
	k.type = jbvString;
	k.val.string.val = const_cast<char *>(key);
	k.val.string.len = static_cast<int>(strlen(key));
	JsonbValue *v = PgCall([&]() noexcept { return findJsonbValueFromContainer(c, JB_FOBJECT, &k); });
	if (!v)
		return std::nullopt;
	return *v;
}

std::string_view as_view(const JsonbValue &v) { return {v.val.string.val, static_cast<size_t>(v.val.string.len)}; }

const char *type_name(const JsonbValue &v) {
	switch (v.type) {
	case jbvNull: return "null";
	case jbvString: return "a string";
	case jbvNumeric: return "a number";
	case jbvBool: return "a boolean";
	case jbvBinary: return JsonContainerIsArray(v.val.binary.data) ? "an array" : "an object";
	default: return "a non-string";
	}
}

// <name>.sql, <dir>/migration.sql, <dir>/snapshot.json, meta/<name>.json: one
// level deep at most, no ".." directory, no absolute path.
bool path_inside_folder(std::string_view p) {
	if (p.empty() || p.front() == '/')
		return false;
	size_t slash = p.find('/');
	if (slash == std::string_view::npos)
		return true;  // a file beside meta/: its name is checked as a tag later
	if (p.find('/', slash + 1) != std::string_view::npos)
		return false;
	std::string_view dir = p.substr(0, slash), file = p.substr(slash + 1);
	if (dir == ".." || dir == ".")
		return false;
	return dir == "meta" || file == "migration.sql" || file == "down.sql" || file == "snapshot.json";
}

// Calls `fn(key, value)` for each member of an object container.
template <typename Fn>
void each_member(JsonbContainer *c, Fn &&fn) {
	JsonbIterator *it = PgCall([&]() noexcept { return JsonbIteratorInit(c); });
	JsonbValue v;
	JsonbIteratorToken tok;
	std::string_view key;
	while ((tok = PgCall([&]() noexcept { return JsonbIteratorNext(&it, &v, true); })) != WJB_DONE) {
		if (tok == WJB_KEY)
			key = as_view(v);
		else if (tok == WJB_VALUE)
			fn(key, v);
	}
}

}  // namespace

core::FolderInput read_folder(Jsonb *folder) {
	if (!JB_ROOT_IS_OBJECT(folder) || JB_ROOT_IS_SCALAR(folder))
		throw Error(DBKIT_FOLDER_INVALID, "the folder argument must be a JSON object", kPayloadHint);
	core::FolderInput in;
	if (auto j = find_key(&folder->root, "journal")) {
		if (j->type == jbvString)
			in.journal = as_view(*j);
		else if (j->type != jbvNull)
			throw Error(DBKIT_FOLDER_INVALID,
			            fmt::format("folder field \"journal\" must be a string (the text of meta/_journal.json), "
			                        "found {}",
			                        type_name(*j)),
			            kPayloadHint);
	}
	auto files = find_key(&folder->root, "files");
	if (!files || files->type != jbvBinary || !JsonContainerIsObject(files->val.binary.data))
		throw Error(DBKIT_FOLDER_INVALID,
		            files ? fmt::format("folder field \"files\" must be an object, found {}", type_name(*files))
		                  : "the folder has no field \"files\"",
		            kPayloadHint);
	each_member(files->val.binary.data, [&](std::string_view name, const JsonbValue &v) {
		if (v.type != jbvString)
			throw Error(DBKIT_FOLDER_INVALID,
			            fmt::format("folder file \"{}\" must be a string with the file's text, found {}", name,
			                        type_name(v)),
			            kPayloadHint);
		if (!path_inside_folder(name))
			throw Error(DBKIT_FOLDER_INVALID,
			            fmt::format("folder file \"{}\" is not a path drizzle-kit writes inside a migrations folder",
			                        name.substr(0, 200)),
			            "Ship <tag>.sql, <tag>.down.sql, <folder>/migration.sql, <folder>/down.sql, <folder>/snapshot.json and meta/*.json, as the dbkit "
			            "client does.");
		if (name == "meta/_journal.json") {
			if (!in.journal)
				in.journal = as_view(v);
			return;
		}
		in.files.emplace_back(name, as_view(v));
	});
	return in;
}

std::string text_arg(FunctionCallInfo fcinfo, int n) {
	if (PG_ARGISNULL(n))
		return {};
	// detoasting allocates: through PgCall, since the caller owns C++ objects
	text *t = PgCall([&]() noexcept { return PG_GETARG_TEXT_PP(n); });
	return std::string(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

Options read_options(Jsonb *options, RollbackOptions *rollback, const std::vector<std::string_view> &also) {
	Options o;
	if (!options)
		return o;
	int64_t lock_pid = 0;  // the server session the client's deploy lock was taken in
	if (!JB_ROOT_IS_OBJECT(options) || JB_ROOT_IS_SCALAR(options))
		throw Error(DBKIT_OPTION_INVALID, "options must be a JSON object", "For example '{\"out_of_order\": true}'.");
	auto want_bool = [](std::string_view k, const JsonbValue &v) {
		if (v.type != jbvBool)
			throw Error(DBKIT_OPTION_INVALID, fmt::format("option \"{}\" must be true or false, found {}", k, type_name(v)));
		return static_cast<bool>(v.val.boolean);
	};
	auto want_int = [](std::string_view k, const JsonbValue &v, int64_t max) {
		if (v.type != jbvNumeric)
			throw Error(DBKIT_OPTION_INVALID, fmt::format("option \"{}\" must be a number, found {}", k, type_name(v)));
		Datum num = NumericGetDatum(v.val.numeric);
		const char *text = PgCall([&]() noexcept { return DatumGetCString(DirectFunctionCall1(numeric_out, num)); });
		std::string digits(text);
		bool bad = digits.empty() || digits.size() > 12 || digits.find_first_not_of("0123456789") != std::string::npos;
		int64_t value = bad ? -1 : std::stoll(digits);
		if (bad || value > max)
			throw Error(DBKIT_OPTION_INVALID, fmt::format("option \"{}\" must be an integer from 0 to {}", k, max));
		return static_cast<int64_t>(value);
	};
	auto want_name = [](std::string_view k, const JsonbValue &v) {
		if (v.type != jbvString || v.val.string.len == 0 || v.val.string.len >= NAMEDATALEN)
			throw Error(DBKIT_OPTION_INVALID, fmt::format("option \"{}\" must be a non-empty identifier", k));
		return std::string(as_view(v));
	};
	each_member(&options->root, [&](std::string_view k, const JsonbValue &v) {
		if (k == "out_of_order")
			o.out_of_order = want_bool(k, v);
		else if (k == "limit")
			o.limit = want_int(k, v, INT32_MAX);
		else if (k == "lock_timeout")
			o.lock_timeout_ms = want_int(k, v, INT32_MAX);
		else if (k == "statement_timeout")
			o.statement_timeout_ms = want_int(k, v, INT32_MAX);
		else if (k == "lock_retries")
			o.lock_retries = static_cast<int>(want_int(k, v, 100));
		else if (k == "retry_delay")
			o.retry_delay_ms = want_int(k, v, 600000);
		else if (k == "resume")
			o.resume = want_bool(k, v);
		else if (k == "chain_non_transactional")
			o.chain_non_transactional = want_bool(k, v);
		else if (k == "lock_wait")
			o.lock_wait_ms = want_int(k, v, INT32_MAX);
		else if (k == "lock_pid")
			lock_pid = want_int(k, v, INT32_MAX);
		else if (k == "drizzle_sync")
			o.drizzle_sync = want_bool(k, v);
		else if (k == "drizzle_schema")
			o.drizzle_schema = want_name(k, v);
		else if (k == "drizzle_table")
			o.drizzle_table = want_name(k, v);
		else if (rollback && k == "steps")
			rollback->steps = want_int(k, v, INT32_MAX);
		else if (rollback && (k == "to" || k == "reason" || k == "through")) {
			if (v.type != jbvString)
				throw Error(DBKIT_OPTION_INVALID, fmt::format("option \"{}\" must be a string, found {}", k, type_name(v)));
			(k == "to" ? rollback->to : k == "reason" ? rollback->reason : rollback->through) = std::string(as_view(v));
		} else if (rollback && k == "dry_run")
			rollback->dry_run = want_bool(k, v);
		else if (k == "backup_file") {  // the client's dump before this run, recorded in the run's event
			if (v.type != jbvString)
				throw Error(DBKIT_OPTION_INVALID, fmt::format("option \"{}\" must be a string, found {}", k, type_name(v)));
			o.backup_file = std::string(as_view(v));
		} else if (k == "backup_bytes")
			o.backup_bytes = want_int(k, v, INT64_C(999999999999));
		else if (std::find(also.begin(), also.end(), k) != also.end())
			return;  // the caller's own
		else
			throw Error(DBKIT_OPTION_INVALID, fmt::format("unknown option \"{}\"", k),
			            "Known options: out_of_order, limit, lock_timeout, statement_timeout, lock_retries, retry_delay, "
			            "resume, chain_non_transactional, lock_wait, lock_pid, drizzle_sync, drizzle_schema, drizzle_table, backup_file, backup_bytes; for "
			            "dbkit_rollback also steps, to, reason, dry_run, through.");
	});
	if (o.drizzle_schema == "dbkit" || o.drizzle_schema == "pg_catalog" || o.drizzle_schema == "information_schema" ||
	    o.drizzle_schema.rfind("pg_", 0) == 0)
		throw Error(DBKIT_OPTION_INVALID,
		            fmt::format("options \"drizzle_schema\"/\"drizzle_table\": {}.{} is not where drizzle keeps its table",
		                        o.drizzle_schema, o.drizzle_table),
		            "drizzle's default is \"drizzle\"; use the schema of your drizzle config's migrations.schema.");
	// A call that reaches another server session than the one holding the client's deploy
	// lock: a pooler in transaction mode (it would wait for its own lock, or run unguarded)
	if (lock_pid != 0 && lock_pid != MyProcPid)
		throw Error(DBKIT_LOCK_SHARED_SESSION,
		            fmt::format("this call reached server session pid {}, but the deploy lock was taken in server "
		                        "session pid {}: the connection goes through a pooler that gives each transaction to "
		                        "another server session (pgbouncer's pool_mode = transaction or statement)",
		                        MyProcPid, lock_pid),
		            "Deploy over a direct connection, or through session pooling (pool_mode = session; Supabase's "
		            "session pooler): a deploy holds its lock, and runs a non-transactional migration statement by "
		            "statement, in one server session.");
	return o;
}

Jsonb *jsonb_arg(FunctionCallInfo fcinfo, int n) {
	if (PG_ARGISNULL(n))
		return nullptr;
	return PgCall([&]() noexcept { return PG_GETARG_JSONB_P(n); });
}

}  // namespace dbkit
