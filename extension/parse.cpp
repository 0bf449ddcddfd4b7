#include <algorithm>
#include <optional>

#include "parse.hpp"
#include "spi.hpp"

namespace dbkit {

namespace {

// A boolean option of a DefElem list (CREATE SUBSCRIPTION ... WITH (connect = false)).
std::optional<bool> bool_option(List *options, const char *name) {
	ListCell *lc;
	foreach (lc, options) {
		DefElem *opt = static_cast<DefElem *>(lfirst(lc));
		if (strcmp(opt->defname, name) != 0)
			continue;
		try {
			return PgCall([&]() noexcept { return defGetBoolean(opt); });
		} catch (const PgError &) {
			return std::nullopt;  // PostgreSQL reports the bad value when it runs
		}
	}
	return std::nullopt;
}

// The relkind of an existing relation, or 0 (not there, or not resolvable now).
char relkind_of(RangeVar *rv) {
	if (!rv)
		return 0;
	try {
		// lookups that neither lock nor check privileges nor raise for a missing name
		return PgCall([&]() noexcept {
			Oid relid = InvalidOid;
			if (rv->catalogname)
				return '\0';
			if (rv->schemaname) {
				Oid nsp = get_namespace_oid(rv->schemaname, true);
				relid = OidIsValid(nsp) ? get_relname_relid(rv->relname, nsp) : InvalidOid;
			} else {
				relid = RelnameGetRelid(rv->relname);
			}
			return OidIsValid(relid) ? get_rel_relkind(relid) : '\0';
		});
	} catch (const PgError &) {
		return 0;
	}
}

// Statements PostgreSQL 15 refuses inside a transaction block: every caller of
// PreventInTransactionBlock (xact.c) reachable from SQL, by node type:
//   utility.c      CREATE/DROP DATABASE, ALTER SYSTEM, CREATE/DROP TABLESPACE, CREATE INDEX
//                  CONCURRENTLY, DROP INDEX CONCURRENTLY, ALTER TABLE ... DETACH PARTITION
//                  ... CONCURRENTLY, COMMIT/ROLLBACK PREPARED (transaction control: refused)
//   dbcommands.c   ALTER DATABASE ... SET TABLESPACE
//   vacuum.c       VACUUM (ANALYZE alone may run in a transaction)
//   cluster.c      CLUSTER without a table, or of a partitioned table
//   indexcmds.c    REINDEX ... CONCURRENTLY, REINDEX SCHEMA/SYSTEM/DATABASE, REINDEX of a
//                  partitioned table or index
//   discard.c      DISCARD ALL
//   subscriptioncmds.c  CREATE SUBSCRIPTION that creates a slot (the default unless
//                  connect = false or create_slot = false), ALTER SUBSCRIPTION ... REFRESH
//                  PUBLICATION and SET/ADD/DROP PUBLICATION with refresh (the default),
//                  DROP SUBSCRIPTION of one with a slot (counted as always: the slot is
//                  only known from the catalog)
// The partitioned cases depend on the catalog: they are recognised when the table exists
// as the statement is planned. ALTER TYPE ... ADD VALUE runs in a transaction since 12.
bool needs_no_transaction(Node *n) {
	switch (nodeTag(n)) {
	case T_IndexStmt: return reinterpret_cast<IndexStmt *>(n)->concurrent;
	case T_DropStmt: return reinterpret_cast<DropStmt *>(n)->concurrent;
	case T_ReindexStmt: {
		ReindexStmt *r = reinterpret_cast<ReindexStmt *>(n);
		if (compat::reindex_concurrently(r) || r->kind == REINDEX_OBJECT_SCHEMA ||
		    r->kind == REINDEX_OBJECT_SYSTEM || r->kind == REINDEX_OBJECT_DATABASE)
			return true;
		char k = relkind_of(r->relation);
		return k == RELKIND_PARTITIONED_TABLE || k == RELKIND_PARTITIONED_INDEX;
	}
	case T_VacuumStmt: return reinterpret_cast<VacuumStmt *>(n)->is_vacuumcmd;
	case T_ClusterStmt: {
		ClusterStmt *c = reinterpret_cast<ClusterStmt *>(n);
		return c->relation == nullptr || relkind_of(c->relation) == RELKIND_PARTITIONED_TABLE;
	}
	case T_AlterTableStmt: {
		ListCell *lc;
		foreach (lc, reinterpret_cast<AlterTableStmt *>(n)->cmds) {
			AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
			if (cmd->subtype == AT_DetachPartition && cmd->def &&
			    reinterpret_cast<PartitionCmd *>(cmd->def)->concurrent)
				return true;
		}
		return false;
	}
	case T_DiscardStmt: return reinterpret_cast<DiscardStmt *>(n)->target == DISCARD_ALL;
	case T_AlterDatabaseStmt: {
		ListCell *lc;
		foreach (lc, reinterpret_cast<AlterDatabaseStmt *>(n)->options)
			if (strcmp(static_cast<DefElem *>(lfirst(lc))->defname, "tablespace") == 0)
				return true;
		return false;
	}
	case T_CreateSubscriptionStmt: {
		List *opts = reinterpret_cast<CreateSubscriptionStmt *>(n)->options;
		if (bool_option(opts, "connect") == std::optional<bool>(false))
			return false;  // connect = false implies create_slot = false
		return bool_option(opts, "create_slot").value_or(true);
	}
	case T_AlterSubscriptionStmt: {
		AlterSubscriptionStmt *a = reinterpret_cast<AlterSubscriptionStmt *>(n);
		switch (a->kind) {
		case ALTER_SUBSCRIPTION_REFRESH: return true;
		case ALTER_SUBSCRIPTION_SET_PUBLICATION:
		case ALTER_SUBSCRIPTION_ADD_PUBLICATION:
		case ALTER_SUBSCRIPTION_DROP_PUBLICATION: return bool_option(a->options, "refresh").value_or(true);
		default: return false;
		}
	}
	case T_CreatedbStmt:
	case T_DropdbStmt:
	case T_AlterSystemStmt:
	case T_CreateTableSpaceStmt:
	case T_DropTableSpaceStmt:
	case T_DropSubscriptionStmt: return true;
	default: return false;
	}
}

// What a statement would do to dbkit's own objects, which its bookkeeping needs
// (the history, progress and audit tables live in schema dbkit); empty if nothing.
constexpr const char *kDbkit = "dbkit";
bool is_dbkit(const char *name) { return name && strcmp(name, kDbkit) == 0; }
bool in_dbkit_schema(const RangeVar *rv) { return rv && is_dbkit(rv->schemaname); }

std::string touches_dbkit(Node *n) {
	switch (nodeTag(n)) {
	case T_DropStmt: {
		DropStmt *d = reinterpret_cast<DropStmt *>(n);
		ListCell *lc;
		foreach (lc, d->objects) {
			Node *o = static_cast<Node *>(lfirst(lc));
			if (d->removeType == OBJECT_EXTENSION || d->removeType == OBJECT_SCHEMA) {
				if (IsA(o, String) && is_dbkit(strVal(o)))
					return d->removeType == OBJECT_EXTENSION ? "drops the dbkit extension"
					                                         : "drops schema dbkit (dbkit's history)";
			} else if (IsA(o, List) && list_length(reinterpret_cast<List *>(o)) >= 2) {
				List *names = reinterpret_cast<List *>(o);
				Node *schema = static_cast<Node *>(list_nth(names, list_length(names) - 2));
				if (IsA(schema, String) && is_dbkit(strVal(schema)))
					return "drops an object of schema dbkit (dbkit's history)";
			}
		}
		return "";
	}
	case T_TruncateStmt: {
		ListCell *lc;
		foreach (lc, reinterpret_cast<TruncateStmt *>(n)->relations)
			if (in_dbkit_schema(lfirst_node(RangeVar, lc)))
				return "truncates a table of schema dbkit (dbkit's history)";
		return "";
	}
	case T_AlterTableStmt:
		return in_dbkit_schema(reinterpret_cast<AlterTableStmt *>(n)->relation)
		           ? "alters a table of schema dbkit (dbkit's history)"
		           : "";
	case T_RenameStmt: {
		RenameStmt *r = reinterpret_cast<RenameStmt *>(n);
		if (r->renameType == OBJECT_SCHEMA && is_dbkit(r->subname))
			return "renames schema dbkit (dbkit's history)";
		return in_dbkit_schema(r->relation) ? "renames an object of schema dbkit (dbkit's history)" : "";
	}
	case T_AlterExtensionStmt:
		return is_dbkit(reinterpret_cast<AlterExtensionStmt *>(n)->extname) ? "alters the dbkit extension" : "";
	case T_AlterExtensionContentsStmt:
		return is_dbkit(reinterpret_cast<AlterExtensionContentsStmt *>(n)->extname) ? "alters the dbkit extension"
		                                                                            : "";
	case T_InsertStmt:
		return in_dbkit_schema(reinterpret_cast<InsertStmt *>(n)->relation) ? "writes to dbkit's history tables" : "";
	case T_UpdateStmt:
		return in_dbkit_schema(reinterpret_cast<UpdateStmt *>(n)->relation) ? "writes to dbkit's history tables" : "";
	case T_DeleteStmt:
		return in_dbkit_schema(reinterpret_cast<DeleteStmt *>(n)->relation) ? "writes to dbkit's history tables" : "";
	default: return "";
	}
}

std::string quoted(const RangeVar *rv) {
	if (!rv)
		return "";
	std::string q = spi::sql_ident(rv->relname);
	return rv->schemaname ? spi::sql_ident(rv->schemaname) + "." + q : q;
}

// The existing tables a statement locks (for the report of blocking sessions).
std::vector<std::string> relations_of(Node *n) {
	std::vector<std::string> out;
	switch (nodeTag(n)) {
	case T_AlterTableStmt: out.push_back(quoted(reinterpret_cast<AlterTableStmt *>(n)->relation)); break;
	case T_IndexStmt: out.push_back(quoted(reinterpret_cast<IndexStmt *>(n)->relation)); break;
	case T_RenameStmt: out.push_back(quoted(reinterpret_cast<RenameStmt *>(n)->relation)); break;
	case T_DeleteStmt: out.push_back(quoted(reinterpret_cast<DeleteStmt *>(n)->relation)); break;
	case T_UpdateStmt: out.push_back(quoted(reinterpret_cast<UpdateStmt *>(n)->relation)); break;
	case T_InsertStmt: out.push_back(quoted(reinterpret_cast<InsertStmt *>(n)->relation)); break;
	case T_CreateTrigStmt: out.push_back(quoted(reinterpret_cast<CreateTrigStmt *>(n)->relation)); break;
	case T_TruncateStmt: {
		ListCell *lc;
		foreach (lc, reinterpret_cast<TruncateStmt *>(n)->relations)
			out.push_back(quoted(lfirst_node(RangeVar, lc)));
		break;
	}
	case T_DropStmt: {
		DropStmt *d = reinterpret_cast<DropStmt *>(n);
		if (d->removeType != OBJECT_TABLE && d->removeType != OBJECT_INDEX)
			break;
		ListCell *lc;
		foreach (lc, d->objects) {
			List *names = reinterpret_cast<List *>(lfirst(lc));
			int n = list_length(names);
			if (n == 1)
				out.push_back(spi::sql_ident(strVal(linitial(names))));
			else if (n >= 2)
				out.push_back(spi::sql_ident(strVal(list_nth(names, n - 2))) + "." + spi::sql_ident(strVal(llast(names))));
		}
		break;
	}
	default: break;
	}
	out.erase(std::remove(out.begin(), out.end(), std::string()), out.end());
	return out;
}

ParserNotices *active_notices = nullptr;
emit_log_hook_type outer_log_hook = nullptr;
int outer_log_min_messages = WARNING;

// Installed only while the parser runs. It never raises: ErrorContext is current and an
// error here would recurse into error reporting. PostgreSQL calls the hook only for
// messages bound for the server log, so log_min_messages is lowered to NOTICE around the
// parse and each notice's server-log decision is restored here from the real setting.
void parser_log_hook(ErrorData *edata) {
	if (edata->elevel < ERROR) {
		collect_parser_notice(edata);
		edata->output_to_client = false;
		// as elog.c's is_log_level_output decides for a NOTICE or WARNING
		edata->output_to_server = outer_log_min_messages != LOG && edata->elevel >= outer_log_min_messages;
	}
	if (outer_log_hook)
		outer_log_hook(edata);
}

}  // namespace

ParserNotices::ParserNotices() : outer_(active_notices) { active_notices = this; }
ParserNotices::~ParserNotices() { active_notices = outer_; }
std::vector<ParserNotice> ParserNotices::take() { return std::move(notices_); }

void collect_parser_notice(ErrorData *edata) noexcept {
	if (!active_notices || !edata->message)
		return;
	try {
		active_notices->notices_.push_back({edata->sqlerrcode, edata->message});
	} catch (...) {
		// out of memory: the notice is lost, never the parse
	}
}

List *raw_parse_noexcept(const char *sql, bool in_subxact, ErrorData **err) noexcept {
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	List *volatile result = NIL;
	*err = nullptr;
	bool hooked = emit_log_hook != parser_log_hook;  // not already inside a parse
	if (hooked) {
		outer_log_hook = emit_log_hook;
		emit_log_hook = parser_log_hook;
		outer_log_min_messages = log_min_messages;
		if (log_min_messages > NOTICE || log_min_messages == LOG)
			log_min_messages = NOTICE;
	}
	if (in_subxact) {
		BeginInternalSubTransaction(NULL);
		MemoryContextSwitchTo(oldcontext);
	}
	PG_TRY();
	{
		result = compat::raw_parse(sql);
		if (in_subxact) {
			ReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(oldcontext);
			CurrentResourceOwner = oldowner;
		}
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcontext);
		*err = CopyErrorData();
		FlushErrorState();
		if (in_subxact) {
			RollbackAndReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(oldcontext);
			CurrentResourceOwner = oldowner;
		}
	}
	PG_END_TRY();
	if (hooked) {
		emit_log_hook = outer_log_hook;
		log_min_messages = outer_log_min_messages;
	}
	return result;
}

static core::TxKind tx_kind(Node *n) {
	if (!IsA(n, TransactionStmt))
		return core::TxKind::None;
	TransactionStmt *t = reinterpret_cast<TransactionStmt *>(n);
	switch (t->kind) {
	case TRANS_STMT_BEGIN:
	case TRANS_STMT_START: return core::TxKind::Begin;
	case TRANS_STMT_COMMIT: return t->chain ? core::TxKind::Chain : core::TxKind::Commit;
	case TRANS_STMT_ROLLBACK: return t->chain ? core::TxKind::Chain : core::TxKind::Rollback;
	case TRANS_STMT_SAVEPOINT: return core::TxKind::Savepoint;
	case TRANS_STMT_RELEASE: return core::TxKind::Release;
	case TRANS_STMT_ROLLBACK_TO: return core::TxKind::RollbackTo;
	case TRANS_STMT_PREPARE:
	case TRANS_STMT_COMMIT_PREPARED:
	case TRANS_STMT_ROLLBACK_PREPARED: return core::TxKind::TwoPhase;
	}
	return core::TxKind::TwoPhase;  // a kind a later PostgreSQL adds: refused, never run unseen
}

std::vector<Statement> parse_statements(std::string_view text, bool in_subxact) {
	std::string sql(text);  // the parser wants a NUL-terminated string
	ErrorData *err = nullptr;
	const char *p = sql.c_str();
	List *stmts = raw_parse_noexcept(p, in_subxact, &err);
	if (err)
		throw PgError(err);
	std::vector<Statement> out;
	ListCell *lc;
	foreach (lc, stmts) {
		RawStmt *rs = lfirst_node(RawStmt, lc);
		Statement s;
		s.offset = static_cast<size_t>(rs->stmt_location);
		s.length = rs->stmt_len == 0 ? sql.size() - s.offset : static_cast<size_t>(rs->stmt_len);
		s.command = CreateCommandName(rs->stmt);
		s.tx = tx_kind(rs->stmt);
		s.begin_options = s.tx == core::TxKind::Begin && reinterpret_cast<TransactionStmt *>(rs->stmt)->options != NIL;
		s.needs_no_transaction = needs_no_transaction(rs->stmt);
		if (s.needs_no_transaction && (IsA(rs->stmt, IndexStmt) || IsA(rs->stmt, DropStmt) ||
		                               (IsA(rs->stmt, ReindexStmt) &&
		                                compat::reindex_concurrently(reinterpret_cast<ReindexStmt *>(rs->stmt)))))
			s.command += " CONCURRENTLY";
		else if (s.needs_no_transaction && IsA(rs->stmt, AlterTableStmt))
			s.command += " ... DETACH PARTITION ... CONCURRENTLY";
		s.relations = relations_of(rs->stmt);
		s.touches_dbkit = touches_dbkit(rs->stmt);
		if (IsA(rs->stmt, IndexStmt)) {
			IndexStmt *ix = reinterpret_cast<IndexStmt *>(rs->stmt);
			if (ix->idxname) {
				s.index_name = ix->idxname;
				s.index_table = quoted(ix->relation);
			}
			s.if_not_exists = ix->if_not_exists;
		}
		if (IsA(rs->stmt, CopyStmt)) {
			CopyStmt *c = reinterpret_cast<CopyStmt *>(rs->stmt);
			s.copy_stdio = c->filename == nullptr && !c->is_program;
		}
		out.push_back(std::move(s));
	}
	return out;
}

}  // namespace dbkit
