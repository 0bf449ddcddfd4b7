#pragma once
// The shadow renames the live schemas out of the way, but their objects stay in
// the catalogs. A migration that asks the catalogs by name whether something
// exists ("IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'status')", the
// same on information_schema.columns, pg_constraint, pg_tables, ...) would find
// the live object and skip what it builds from an empty database. For the
// duration of the shadow (its subtransaction is rolled back), those names show
// only what is not in a renamed schema:
//   - pg_catalog's tables and views, as written unqualified: temporary views of
//     the same name, which PostgreSQL looks up before pg_catalog unless the
//     search_path names pg_temp;
//   - information_schema: renamed aside as dbkit_shadow_information_schema (as
//     the extension's owner: it belongs to the bootstrap superuser) and stood in
//     for by views over it, of the same names and columns.
// Only the names some source mentions are covered (a source that never names
// pg_type cannot query it), and only while a DO block runs, where such questions
// are asked (information_schema: a DO block that names it): a view, a BEGIN
// ATOMIC function or a column a migration makes over pg_class or
// information_schema must be bound to the real one (over a temporary view it
// would itself be temporary). docs/design.md, "The shadow", says what is not
// covered.
#include <string>
#include <string_view>
#include <vector>

#include "core/folder.hpp"
#include "pg.hpp"

namespace dbkit {

// SPI connected, inside the shadow's subtransaction, after the live schemas were
// renamed (their oids in `renamed_oids`). Never fails the shadow for a refusal: a
// stand-in this role may not create (no TEMPORARY privilege, an extension owner
// that is no superuser) is left out with a WARNING, and that name shows the live
// objects as before; a cancel or a lock wait that timed out is raised.
class LookupStandIns {
public:
	LookupStandIns(const std::vector<const core::Migration *> &sources, const std::vector<std::string> &renamed_oids);
	// Before each statement the shadow runs (its raw parse tree, NULL when none, and
	// its text): the stand-ins are there for a DO block, gone for anything else.
	void before(Node *tree, std::string_view text);
	// After the last statement, before the shadow's schema is read: every name PostgreSQL's again.
	void finish();
	bool active() const;  // a stand-in is in place (for an error's hint)

private:
	void create();
	void drop();
	std::vector<const char *> names_;    // pg_catalog relations some source mentions
	std::vector<const char *> created_;  // their stand-ins in place now
	std::string oids_;                 // the renamed schemas' oids as an oid[] literal
	bool present_ = false, warned_ = false;
	bool information_schema_hidden_ = false, warned_information_schema_ = false;
};

}  // namespace dbkit
