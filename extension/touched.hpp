#pragma once
// The objects this transaction's DDL touched, as the event triggers report them:
// dbkit's own runs included (their objects are what an incremental reference
// re-reads), and DDL outside them (written to dbkit.dirty_objects at commit: the
// drift flag). Rolled-back savepoints drop their entries. See docs/design.md,
// "Incremental references".
#include <string>

#include "pg.hpp"

namespace dbkit {

struct Touched {
	bool unknown = false;  // a command that names no object (ALTER DEFAULT PRIVILEGES, ...): only a full read is safe
	bool outside = false;  // DDL outside a dbkit run in this transaction
	std::string oids;      // the run's objects, as an oid[] literal
	std::string classids;  // their catalogs, in the same order
};

// What this transaction's dbkit runs touched so far.
Touched touched_by_runs();
// A statement of a run ran where event triggers do not fire: touched_by_runs() says unknown.
void touched_blind();
// DDL outside dbkit's runs in this transaction, not yet written.
bool touched_outside_pending();
// A reference now holds what the runs touched: their entries are not drift.
void touched_taken_in();

}  // namespace dbkit

// For audit.cpp (plain C calls, no C++ objects alive): capture at each event,
// write the outside entries with SPI connected, follow (sub)transaction ends.
struct EventTriggerData;
// A GRANT's or REVOKE's objects (a List of Oid) from a pg_ddl_command datum, and
// their catalog in *classid; InvalidOid when the command is not one, or of a kind
// no snapshot entry holds (a language, a server, ...).
List *dbkit_grant_objects(Datum command, Oid *classid);
void dbkit_touched_capture(EventTriggerData *trig, bool drop, bool in_run);
void dbkit_touched_write_outside();  // every entry left (see touched.cpp)
bool dbkit_touched_has_outside();    // any entry left
void dbkit_touched_subxact(bool abort, int level);
void dbkit_touched_reset();
