#pragma once
// An internal subtransaction from C++ (conventions rule 5): after a PostgreSQL
// error caught by PgCall, roll it back before doing anything else.
#include "guard.hpp"

namespace dbkit {

class Subxact {
public:
	Subxact() : mcxt_(CurrentMemoryContext), owner_(CurrentResourceOwner) {
		PgCall([]() noexcept { BeginInternalSubTransaction(NULL); });
		MemoryContextSwitchTo(mcxt_);
		open_ = true;
	}
	void commit() {
		PgCall([]() noexcept { ReleaseCurrentSubTransaction(); });
		restore();
	}
	void rollback() {
		PgCall([]() noexcept { RollbackAndReleaseCurrentSubTransaction(); });
		restore();
	}
	~Subxact() {
		if (open_) {  // unwinding from a C++ exception: roll back, swallow a second error
			try {
				rollback();
			} catch (...) {
			}
		}
	}
	Subxact(const Subxact &) = delete;
	Subxact &operator=(const Subxact &) = delete;

private:
	void restore() {
		MemoryContextSwitchTo(mcxt_);
		CurrentResourceOwner = owner_;
		open_ = false;
	}
	MemoryContext mcxt_;
	ResourceOwner owner_;
	bool open_ = false;
};

}  // namespace dbkit
