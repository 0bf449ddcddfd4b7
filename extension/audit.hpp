#pragma once
// The DDL audit keeps a transaction's rows in memory until it commits (see
// audit.cpp). A reader inside that same transaction writes them first, so that
// dbkit_drift() right after BEGIN; ALTER ... still says who did it.
// A row whose statement another row of the same query string holds (a long text
// is kept once, audit.cpp) says so: its statement column is this text with that
// row's id, which dbkit_drift reads the text through.
#define DBKIT_AUDIT_REF_PREFIX "(the statement of dbkit.ddl_audit row "
#define DBKIT_AUDIT_STATEMENT_REF DBKIT_AUDIT_REF_PREFIX INT64_FORMAT ")"

namespace dbkit {

// A statement this long or shorter is written in every row of its run, not named.
constexpr unsigned kAuditRepeatInline = 256;

// Outside any savepoint only; errors become a WARNING; safe with nothing pending.
void flush_pending_audit();

// Registers dbkit.audit_retention (from _PG_init).
void define_audit_settings();

}  // namespace dbkit
