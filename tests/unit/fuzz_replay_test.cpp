// Every reproducer in tests/fuzz/crashes/ stays fixed: each file goes through the
// fuzz target's body (tests/fuzz/fuzz_core.cpp, built here with DBKIT_FUZZ_REPLAY so
// that its invariant checks throw instead of aborting). A crash fails the whole unit
// run (ctest reports it); an exception or a broken invariant fails the file's case.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

int dbkit_fuzz_core_one(const uint8_t *data, size_t size);

namespace {

std::vector<std::filesystem::path> crash_files() {
	std::vector<std::filesystem::path> out;
	for (const auto &e : std::filesystem::directory_iterator(DBKIT_FUZZ_CRASHES))
		if (e.is_regular_file())
			out.push_back(e.path());
	std::sort(out.begin(), out.end());
	return out;
}

TEST(FuzzReplay, CrashesDirectoryHasReproducers) {
	// tests/fuzz/README.md lists four; a missing directory would make the replay vacuous
	EXPECT_GE(crash_files().size(), 4u) << DBKIT_FUZZ_CRASHES;
}

TEST(FuzzReplay, EveryCrashFileRunsClean) {
	for (const auto &path : crash_files()) {
		SCOPED_TRACE(path.string());
		std::ifstream in(path, std::ios::binary);
		ASSERT_TRUE(in) << "cannot read " << path;
		std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
		EXPECT_NO_THROW(dbkit_fuzz_core_one(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size()))
		    << path.filename().string();
	}
}

}  // namespace
