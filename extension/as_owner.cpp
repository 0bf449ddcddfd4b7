#include "as_owner.hpp"

#include "spi.hpp"

#include "miscadmin.h"

namespace dbkit {

AsExtensionOwner::AsExtensionOwner() {
	spi::execute("SELECT extowner::pg_catalog.int8 FROM pg_catalog.pg_extension WHERE extname = 'dbkit'");
	Oid owner = static_cast<Oid>(spi::get_int64(0, 1).value_or(0));
	GetUserIdAndSecContext(&uid_, &sec_);
	// a restricted operation, as PostgreSQL's own maintenance run as a table's owner
	SetUserIdAndSecContext(owner, sec_ | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
}

AsExtensionOwner::~AsExtensionOwner() { SetUserIdAndSecContext(uid_, sec_); }

}  // namespace dbkit
