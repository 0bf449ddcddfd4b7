#include <algorithm>

#include "parse.hpp"

namespace dbkit {

namespace {

// Statements PostgreSQL refuses inside a transaction block (PreventInTransactionBlock callers).
bool needs_no_transaction(Node *n) {
	switch (nodeTag(n)) {
	case T_IndexStmt: return reinterpret_cast<IndexStmt *>(n)->concurrent;
	case T_DropStmt: return reinterpret_cast<DropStmt *>(n)->concurrent;
	case T_ReindexStmt: {
		ReindexStmt *r = reinterpret_cast<ReindexStmt *>(n);
		return compat::reindex_concurrently(r) || r->kind == REINDEX_OBJECT_SCHEMA ||
		       r->kind == REINDEX_OBJECT_SYSTEM || r->kind == REINDEX_OBJECT_DATABASE;
	}
	case T_VacuumStmt: return reinterpret_cast<VacuumStmt *>(n)->is_vacuumcmd;
	case T_ClusterStmt: return reinterpret_cast<ClusterStmt *>(n)->relation == nullptr;
	case T_CreatedbStmt:
	case T_DropdbStmt:
	case T_AlterSystemStmt:
	case T_CreateTableSpaceStmt:
	case T_DropTableSpaceStmt:
	case T_CreateSubscriptionStmt:
	case T_DropSubscriptionStmt: return true;
	default: return false;
	}
}

std::string quote(const char *ident) {
	return PgCall([&]() noexcept { return quote_identifier(ident); });
}

std::string quoted(const RangeVar *rv) {
	if (!rv)
		return "";
	std::string q = quote(rv->relname);
	return rv->schemaname ? quote(rv->schemaname) + "." + q : q;
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
				out.push_back(quote(strVal(linitial(names))));
			else if (n >= 2)
				out.push_back(quote(strVal(list_nth(names, n - 2))) + "." + quote(strVal(llast(names))));
		}
		break;
	}
	default: break;
	}
	out.erase(std::remove(out.begin(), out.end(), std::string()), out.end());
	return out;
}

}  // namespace

List *raw_parse_noexcept(const char *sql, bool in_subxact, ErrorData **err) noexcept {
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	List *volatile result = NIL;
	*err = nullptr;
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
	return result;
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
		s.transaction_control = IsA(rs->stmt, TransactionStmt);
		s.needs_no_transaction = needs_no_transaction(rs->stmt);
		if (s.needs_no_transaction && (IsA(rs->stmt, IndexStmt) || IsA(rs->stmt, DropStmt) ||
		                               (IsA(rs->stmt, ReindexStmt) &&
		                                compat::reindex_concurrently(reinterpret_cast<ReindexStmt *>(rs->stmt)))))
			s.command += " CONCURRENTLY";
		s.relations = relations_of(rs->stmt);
		if (IsA(rs->stmt, CopyStmt)) {
			CopyStmt *c = reinterpret_cast<CopyStmt *>(rs->stmt);
			s.copy_stdio = c->filename == nullptr && !c->is_program;
		}
		out.push_back(std::move(s));
	}
	return out;
}

}  // namespace dbkit
