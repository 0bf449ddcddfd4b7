// dbkit_drift(): the live schema against the snapshot the last run stored, one
// row per difference, with the DDL audit entries that explain it.
// dbkit_accept_drift(reason): the live schema becomes the reference.
#include <cctype>
#include <map>
#include <set>

#include <fmt/format.h>

#include "core/drift_describe.hpp"
#include "core/json.hpp"
#include "audit.hpp"
#include "deploy_lock.hpp"
#include "errcodes.hpp"
#include "folder_arg.hpp"
#include "history.hpp"
#include "reference_store.hpp"
#include "as_owner.hpp"
#include "spi.hpp"
#include "srf.hpp"

using namespace dbkit;

namespace {

struct AuditEntry {
	std::string identity, statement, json, backend;  // backend: pid, to tell one command's events apart
	std::string command, object_type;                 // as in json, read once
};

std::string upper(std::string s) {
	for (auto &c : s)
		c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
	return s;
}

// DDL on a table explains an index or partition of it only when the statement
// can create or remove one: it names the object, or adds a key or partition.
bool statement_can_touch(const AuditEntry &a, const std::string &short_name) {
	std::string st = upper(a.statement);
	if (!short_name.empty() && st.find(upper(short_name)) != std::string::npos)
		return true;
	for (const char *kw : {"PRIMARY KEY", "UNIQUE", "EXCLUDE", "PARTITION", "CREATE TABLE", "DROP "})
		if (st.find(kw) != std::string::npos)
			return true;
	return false;
}

}  // namespace

DBKIT_FUNCTION(dbkit_drift) {
	ResultRows out(fcinfo);
	spi::connect();
	require_reader("dbkit_drift");
	// Audit entries since the last reference that carried no drift forward: a change made
	// before earlier deploys is still explained by who made it.
	spi::execute(
	    "SELECT coalesce((SELECT taken_at FROM dbkit.snapshots WHERE (catalog_fingerprint IS NOT NULL OR changes IS NOT NULL) "
	    "AND NOT carries_drift "
	    "ORDER BY id DESC LIMIT 1), '-infinity')::text FROM dbkit.snapshots HAVING count(*) > 0");
	if (spi::rows() == 0)
		throw Error(DBKIT_NO_SNAPSHOT, "no schema snapshot is recorded yet: there is nothing to compare with",
		            "dbkit records one after every migrate that changes the history. To take the current schema as "
		            "the reference: SELECT dbkit_accept_drift('initial reference');");
	std::string since = *spi::get_text(0, 1);
	if (reference_lost())
		throw Error(DBKIT_NO_SNAPSHOT, std::string(kReferenceLostWhy) + ": drift cannot be told",
		            "Compare the schema with the code (dbkit drift --dir), then record it: dbkit accept-drift --reason "
		            "\"after restore\". The next dbkit migrate records it as well.");
	// The audit cannot see DDL (dbkit's event triggers disabled, or this session a
	// replica): the comparison below is a full one (the reference's guard says so); the
	// reader is told why, and that who made a change may be unknown.
	spi::execute_cached(
	    "SELECT pg_catalog.string_agg(e.evtname::pg_catalog.text, ', ' ORDER BY e.evtname) FROM pg_catalog.pg_event_trigger e "
	    "WHERE e.evtname OPERATOR(pg_catalog.=) ANY ('{dbkit_audit_ddl,dbkit_audit_drop}'::pg_catalog.name[]) "
	    "AND e.evtenabled OPERATOR(pg_catalog.=) 'D'");
	if (auto off = spi::get_text(0, 1))
		warn({core::Severity::Warning, "audit.disabled", "",
		      fmt::format("dbkit's event triggers are disabled ({}): DDL is not audited, so dbkit drift compares the "
		                  "whole schema and cannot say who made a change",
		                  *off),
		      "ALTER EVENT TRIGGER dbkit_audit_ddl ENABLE; ALTER EVENT TRIGGER dbkit_audit_drop ENABLE; (as a "
		      "superuser)."});
	spi::execute(
	    "SELECT e.id FROM dbkit.events e WHERE (e.detail ->> 'snapshot_skipped')::bool "
	    "AND e.id > coalesce((SELECT run_id FROM dbkit.snapshots ORDER BY id DESC LIMIT 1), 0)");
	if (spi::rows() > 0)
		throw Error(DBKIT_NO_SNAPSHOT,
		            "the last run could not record the schema snapshot (a table was locked), so drift cannot be told "
		            "from that run's own changes",
		            "Check the schema, then record it: dbkit accept-drift --reason \"snapshot after the deploy\"");

	// An invalid index (a failed CREATE INDEX / REINDEX CONCURRENTLY) is drift
	// whatever the reference says: a snapshot taken with it would otherwise hide it.
	// Such a failure fires no ddl_command_end, so the flag below cannot tell. While
	// the reference is current, only the indexes invalid when it was stored and those
	// created since (a higher oid) can be: found through pg_index's oid index, not a scan.
	DriftBasis basis = drift_basis(/*need_set=*/false);
	// dbkit's own statements not taken in yet (a non-transactional migration running)
	// are no drift: nothing to read either (the indexes they build are checked below)
	bool current = basis.current || basis.own_only;
	std::string invalid_sql =
	    "SELECT pg_catalog.format('%I.%I', n.nspname, c.relname), "
	    "pg_catalog.jsonb_build_object('table', pg_catalog.format('%I.%I', tn.nspname, t.relname), 'valid', false)::text "
	    "FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid "
	    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
	    "JOIN pg_catalog.pg_class t ON t.oid = i.indrelid JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace "
	    "WHERE NOT i.indisvalid AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'dbkit') "
	    "AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)' "
	    // a concurrent build still running (a deploy's, say) is invalid until it ends:
	    // not a failure, and dropping it would kill the build
	    "AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_progress_create_index p WHERE p.index_relid = i.indexrelid) ";
	if (current)
		invalid_sql +=
		    "AND (i.indexrelid > (SELECT coalesce(st.max_class_oid, 0) FROM dbkit.reference_state st) "
		    "     OR i.indexrelid = ANY ((SELECT st.invalid_indexes FROM dbkit.reference_state st)::pg_catalog.oid[])) ";
	{
		AsExtensionOwner owner;  // other sessions' builds show only to a role allowed to see their progress
		spi::execute((invalid_sql + "ORDER BY 1").c_str());
	}
	std::vector<std::pair<std::string, std::string>> invalid;
	for (uint64_t i = 0; i < spi::rows(); ++i)
		invalid.emplace_back(*spi::get_text(i, 1), *spi::get_text(i, 2));
	if (!invalid.empty()) {
		// a stopped non-transactional run likely left them: its --resume rebuilds what the
		// migration builds, the same advice dbkit status gives (dropping by hand made
		// --resume build it again anyway, but the two disagreed)
		// to_jsonb: `direction` is 0.2.0's column; a monitoring role may not read dbkit.progress
		{
			AsExtensionOwner owner;
			spi::execute(
			    "SELECT tag, status, coalesce(pg_catalog.to_jsonb(p) ->> 'direction', 'up') FROM dbkit.progress p");
		}
		std::string fix = "DROP INDEX CONCURRENTLY it and build it again";
		if (spi::rows() > 0) {
			std::string tag = *spi::get_text(0, 1), status = *spi::get_text(0, 2), dir = *spi::get_text(0, 3);
			std::string holders = deploy_lock_holders();
			bool live = status == "running" && !holders.empty() && !core::only_settle_worker(holders);
			if (!live)
				fix = fmt::format("The run of {} stopped (dbkit status): dbkit {} --resume drops and builds again "
				                  "the indexes that migration builds; DROP INDEX CONCURRENTLY any other",
				                  tag, dir == "down" ? "rollback" : "migrate");
		}
		for (const auto &[name, detail] : invalid)
			out.add({std::string("index"), name, std::string("invalid"),
			         "indisvalid = false: a failed or interrupted concurrent build left it; queries do not use it and "
			         "a unique one enforces nothing. " +
			             fix,
			         Cell(), JsonText{detail}, JsonText{"[]"}});
	}

	// Fast path for monitoring polls: no DDL outside dbkit since the reference (the
	// event triggers' flag) and the guard unchanged; the caller has read
	// dbkit.snapshots above, so reading dbkit's per-object copy as its owner shows
	// nothing more. Then no catalog row changed since the snapshot.
	if (current) {
		spi::finish();
		return out.done();
	}

	// DDL outside dbkit named only objects since the reference: compare just those
	// objects (and what their change can alter) with their stored entries.
	// (As the owner to the end: dbkit.ddl_audit is read below, as it always was.)
	AsExtensionOwner owner;
	std::vector<DirtyDiff> diffs;
	std::optional<std::vector<DirtyDiff>> dirty;
	if (basis.dirty)
		dirty = dirty_diff(*basis.dirty, basis.own);
	if (dirty) {
		diffs = std::move(*dirty);
	} else {
		// Otherwise: no catalog row changed since the snapshot, or the full comparison.
		spi::execute(
		    "SELECT (SELECT catalog_fingerprint FROM dbkit.snapshots ORDER BY id DESC LIMIT 1) = "
		    "dbkit.catalog_fingerprint()");
		if (spi::get_text(0, 1).value_or("f") == "t") {
			spi::finish();
			return out.done();
		}
		// Differing entries only: the full join runs in SQL, the description in core.
		// The live side is built in the reference's format (dbkit._live_like): a
		// reference a 0.1.0 dbkit took has no owners, privileges or rules, and is
		// compared only with what it can describe. "dbkit:format" is not an object.
		// dbkit's own statements not taken in yet are left out, as on the dirty path
		std::string own = own_pending_keys();
		spi::execute(
		    "WITH last AS (SELECT dbkit.reference() AS snapshot) "
		    "SELECT coalesce(a.key, b.key), a.value::text, b.value::text "
		    "FROM pg_catalog.jsonb_each((SELECT snapshot FROM last)) a "
		    "FULL JOIN pg_catalog.jsonb_each(dbkit._live_like((SELECT snapshot FROM last))) b ON a.key = b.key "
		    "WHERE a.value IS DISTINCT FROM b.value AND coalesce(a.key, b.key) NOT LIKE 'dbkit:%' "
		    "AND coalesce(a.key, b.key) <> ALL ($1::pg_catalog.text[]) ORDER BY 1",
		    {spi::text(own)});
		for (uint64_t i = 0; i < spi::rows(); ++i)
			diffs.push_back({*spi::get_text(i, 1), spi::get_text(i, 2), spi::get_text(i, 3)});
	}

	std::vector<AuditEntry> audit;
	if (!diffs.empty()) {
		flush_pending_audit();  // this transaction's own DDL, not committed yet
		spi::execute(
		    "SELECT coalesce(object_identity, ''), coalesce(statement, ''), pg_catalog.jsonb_build_object('at', at, 'event', event, "
		    "'command', command_tag, 'object_type', object_type, 'object', object_identity, 'session_user', "
		    "session_user_name, 'current_user', current_user_name, 'application_name', application_name, "
		    "'client_addr', client_addr, 'statement', statement)::text, coalesce(backend_pid::text, ''), "
		    "coalesce(command_tag, ''), coalesce(object_type, ''), id::text "
		    "FROM dbkit.ddl_audit WHERE at >= $1::timestamptz ORDER BY id",
		    {spi::text(since)});
		// a long statement is kept in the first row of its query string's run; the
		// others name that row (audit.cpp), which precedes them, here or (the window
		// began between them) before the window: those are read in one more query
		std::map<std::string, std::string> held;
		std::map<size_t, std::string> unresolved;  // audit index -> the row it names
		const std::string ref = DBKIT_AUDIT_REF_PREFIX;
		for (uint64_t i = 0; i < spi::rows(); ++i) {
			std::string statement = *spi::get_text(i, 2);
			std::string id = statement.rfind(ref, 0) == 0 && statement.back() == ')'
			                     ? statement.substr(ref.size(), statement.size() - ref.size() - 1)
			                     : "";
			if (!id.empty() && id.size() < 20 && id.find_first_not_of("0123456789") == std::string::npos) {
				auto it = held.find(id);
				if (it != held.end())
					statement = it->second;
				else
					unresolved[audit.size()] = id;
			} else if (statement.size() > kAuditRepeatInline) {
				held[*spi::get_text(i, 7)] = statement;
			}
			audit.push_back({*spi::get_text(i, 1), statement, *spi::get_text(i, 3), *spi::get_text(i, 4),
			                 *spi::get_text(i, 5), *spi::get_text(i, 6)});
		}
		if (!unresolved.empty()) {
			std::string ids = "{";
			for (const auto &[index, id] : unresolved)
				ids += (ids.size() > 1 ? "," : "") + id;
			spi::execute("SELECT id::text, statement FROM dbkit.ddl_audit WHERE id = ANY ($1::pg_catalog.int8[])",
			             {spi::text(ids + "}")});
			for (uint64_t i = 0; i < spi::rows(); ++i)
				held[*spi::get_text(i, 1)] = spi::get_text(i, 2).value_or("");
			for (const auto &[index, id] : unresolved)
				if (auto it = held.find(id); it != held.end())
					audit[index].statement = it->second;
		}
	}
	spi::finish();

	// Tables with an added or removed column: the positions of their other
	// columns shift as a consequence, which is not a change of its own.
	std::set<std::string> reshaped;
	for (const auto &d : diffs)
		if (d.key.rfind("column:", 0) == 0 && (!d.expected || !d.actual))
			reshaped.insert(d.key.substr(7, d.key.rfind('.') - 7));
	for (const auto &d : diffs) {
		core::DriftItem item = core::describe_drift(d.key, d.expected, d.actual);
		if (item.kind == "column" && item.change == "changed" && item.detail.rfind("position:", 0) == 0 &&
		    item.detail.find(';') == std::string::npos && reshaped.count(item.name.substr(0, item.name.rfind('.'))))
			continue;
		// An index is explained by DDL on its table; a partition by DDL on its parent.
		std::vector<std::string> names = {item.name};
		for (const auto *json : {&d.expected, &d.actual})
			if (*json)
				for (const char *attr : {"table", "partition_of"})
					if (auto related = core::json_string_member(**json, attr))
						names.push_back(*related);
		std::string short_name = item.name.substr(item.name.rfind('.') + 1);
		std::string entries;
		// one command's events (ddl_command_end, then sql_drop: the same tag) follow each other
		const AuditEntry *last = nullptr;
		// A GRANT or REVOKE changes the privileges of the object it names (a table's columns'
		// too), nothing in or beside it: not the tables of a granted schema, nor a granted
		// table's constraints, triggers or policies.
		auto explains = [&](const AuditEntry &e, size_t k) {
			if (e.command != "GRANT" && e.command != "REVOKE")
				return core::audit_concerns(names[k], e.identity) && (k == 0 || statement_can_touch(e, short_name));
			return k == 0 && core::grant_concerns(item.kind, item.name, e.identity, e.object_type == "SCHEMA");
		};
		for (const auto &a : audit)
			for (size_t k = 0; k < names.size(); ++k)
				if (explains(a, k)) {
					if (!last || last->statement != a.statement || last->backend != a.backend || last->command != a.command)
						entries += (entries.empty() ? "" : ", ") + a.json;
					last = &a;
					break;
				}
		out.add({item.kind, item.name, item.change, item.detail,
		         d.expected ? Cell(JsonText{*d.expected}) : Cell(), d.actual ? Cell(JsonText{*d.actual}) : Cell(),
		         JsonText{"[" + entries + "]"}});
	}
	return out.done();
}

DBKIT_FUNCTION(dbkit_accept_drift) {
	if (PG_ARGISNULL(0) || VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(0)) == 0)
		throw Error(DBKIT_REPAIR_REFUSED, "accept-drift: a reason is required",
		            "Say why the live schema is right, for the history.");
	text *t = PG_GETARG_TEXT_PP(0);
	std::string reason(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
	ResultRows out(fcinfo);
	spi::connect();
	require_deployer("dbkit_accept_drift");
	lock_history();
	HistoryWriter w("accept-drift", {}, reason, {});
	spi::execute("SELECT tag FROM dbkit.migrations ORDER BY id DESC LIMIT 1");
	std::string last_tag = spi::rows() ? spi::get_text(0, 1).value_or("") : "";
	store_reference(w.run_id(), last_tag);
	spi::execute(
	    "SELECT (SELECT count(*) FROM pg_catalog.jsonb_object_keys(snapshot))::int, fingerprint "
	    "FROM dbkit.snapshots ORDER BY id DESC LIMIT 1");
	int32_t n = static_cast<int32_t>(spi::get_int64(0, 1).value_or(0));
	std::string fp = *spi::get_text(0, 2);
	spi::finish();
	out.add({n, fp});
	return out.done();
}
