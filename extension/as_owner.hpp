#pragma once
// Runs the enclosed SPI calls as the extension's owner. The per-object reference
// (dbkit.reference_objects, reference_state, dirty_objects) is read and written
// this way by code that has already checked the caller's own rights (a deployer's
// grants from dbkit_grant_deployer, or reading dbkit.snapshots), so those grants
// stay what they were.
// Only inside spi::connect(), whose search_path is pg_catalog, pg_temp: no
// operator or function of the caller's search_path runs with the owner's rights
// (tested in tests/e2e/test_security.sh, "owner path"); and as a restricted
// operation, as PostgreSQL's own maintenance run as a table's owner.
#include "pg.hpp"

namespace dbkit {

class AsExtensionOwner {
public:
	AsExtensionOwner();
	~AsExtensionOwner();
	AsExtensionOwner(const AsExtensionOwner &) = delete;
	AsExtensionOwner &operator=(const AsExtensionOwner &) = delete;

private:
	Oid uid_;
	int sec_;
};

}  // namespace dbkit
