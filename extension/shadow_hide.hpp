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
// pg_type cannot query it). docs/design.md, "The shadow", says what is not.
#include <string>
#include <vector>

#include "core/folder.hpp"

namespace dbkit {

// SPI connected, inside the shadow's subtransaction, after the live schemas were
// renamed (their oids in `renamed_oids`). Never fails the shadow: a view this role
// may not create (no TEMP privilege, an extension owner that is no superuser) is
// left out, and that name shows the live objects as before.
void hide_renamed_from_lookups(const std::vector<const core::Migration *> &sources,
                               const std::vector<std::string> &renamed_oids);

}  // namespace dbkit
