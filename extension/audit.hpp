#pragma once
// The DDL audit keeps a transaction's rows in memory until it commits (see
// audit.cpp). A reader inside that same transaction writes them first, so that
// dbkit_drift() right after BEGIN; ALTER ... still says who did it.
namespace dbkit {

// Outside any savepoint only; errors become a WARNING; safe with nothing pending.
void flush_pending_audit();

// Registers dbkit.audit_retention (from _PG_init).
void define_audit_settings();

}  // namespace dbkit
