#pragma once
// dbkit studio: the migrations folder kept between requests. Reading 10,000 files
// on every page load cost most of the migrations view; the folder is read again
// only when a file or folder in it (two levels down, where read_folder looks)
// appeared, went, or changed size, mtime, ctime or inode.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

namespace dbkit::client::studio {

class FolderCache {
public:
	explicit FolderCache(std::string dir) : dir_(std::move(dir)) {}

	struct Read {
		nlohmann::json payload;  // as read_folder() returns it
		std::string text;        // payload_text(payload), what dbkit's functions take
		uint64_t generation;     // a new number each time the folder is read from disk
	};
	// The folder as it is now; throws FolderError as read_folder() does.
	std::shared_ptr<const Read> get(bool snapshots);

private:
	struct Slot {
		std::string stamp;     // every entry's name, type, size, mtime, ctime, inode
		bool trusted = false;  // no entry changed within the last seconds before the stamp
		std::shared_ptr<const Read> read;
	};
	std::string dir_;
	std::mutex mu_;
	Slot slots_[2];  // without and with the drizzle snapshots
	uint64_t generation_ = 0;
};

}  // namespace dbkit::client::studio
