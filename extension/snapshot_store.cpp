#include "snapshot_store.hpp"

#include "spi.hpp"

namespace dbkit {

void store_snapshot(int64_t run_id, const std::string &tag) {
	spi::execute(
	    "INSERT INTO dbkit.snapshots (run_id, tag, fingerprint, snapshot) "
	    "SELECT $1, $2, pg_catalog.md5(s::text), s FROM dbkit.snapshot() s",
	    {spi::int8(run_id), spi::text(tag)});
	spi::execute("DELETE FROM dbkit.snapshots WHERE id <= (SELECT max(id) - 10 FROM dbkit.snapshots)");
}

bool drifted_since_last_snapshot() {
	spi::execute("SELECT fingerprint FROM dbkit.snapshots ORDER BY id DESC LIMIT 1");
	if (spi::rows() == 0)
		return false;  // nothing recorded yet: no snapshot to take
	std::string stored = *spi::get_text(0, 1);
	spi::execute("SELECT pg_catalog.md5(dbkit.snapshot()::text)");
	return spi::get_text(0, 1) != stored;
}

}  // namespace dbkit
