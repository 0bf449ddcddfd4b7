// client/hash_cache: a changed file is always re-hashed, a broken cache never
// fails, and an unchanged file is taken from the cache.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/folder_digest.hpp"
#include "hash_cache.hpp"

namespace fs = std::filesystem;
using dbkit::client::HashCache;
using dbkit::client::HashCacheOptions;
using dbkit::core::sha256_hex_plain;

namespace {

struct TempDir {
	fs::path path;
	TempDir() {
		char tmpl[] = "/tmp/dbkit_hash_cache_XXXXXX";
		path = ::mkdtemp(tmpl);
	}
	~TempDir() {
		std::error_code ec;
		fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ec);
		fs::remove_all(path, ec);
	}
};

void write(const fs::path &p, const std::string &text) {
	std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
}

// A later run: the clock well past the files' timestamps, so that nothing is racy.
HashCacheOptions later() {
	HashCacheOptions o;
	struct timespec t {};
	clock_gettime(CLOCK_REALTIME, &t);
	int64_t now = int64_t(t.tv_sec) * 1'000'000'000 + t.tv_nsec + 60'000'000'000LL;
	o.now_ns = [now] { return now; };
	return o;
}

}  // namespace

TEST(HashCache, UnchangedFileIsTakenFromTheCache) {
	TempDir d;
	write(d.path / "a.sql", "CREATE TABLE a (id int);");
	std::string cache = (d.path / "cache").string();
	{
		HashCache c(cache, later());
		EXPECT_EQ(c.hash((d.path / "a.sql").string()), sha256_hex_plain("CREATE TABLE a (id int);"));
		EXPECT_EQ(c.hashed(), 1u);
		c.save();
	}
	HashCache c(cache, later());
	EXPECT_EQ(c.hash((d.path / "a.sql").string()), sha256_hex_plain("CREATE TABLE a (id int);"));
	EXPECT_EQ(c.reused(), 1u);
	EXPECT_EQ(c.hashed(), 0u);
}

// A filesystem with 1 s timestamps: an edit within the same second, same size,
// leaves size, mtime and ctime as they were. Only the racy rule catches it.
TEST(HashCache, EditWithinTheSameSecondIsRehashed) {
	TempDir d;
	fs::path f = d.path / "a.sql";
	std::string cache = (d.path / "cache").string();
	HashCacheOptions coarse;
	coarse.granularity_ns = 1'000'000'000;
	write(f, "SELECT 1;");
	{
		HashCache c(cache, coarse);
		EXPECT_EQ(c.hash(f.string()), sha256_hex_plain("SELECT 1;"));
		c.save();
	}
	write(f, "SELECT 2;");  // same size, same second (or a later one: then the stat differs anyway)
	HashCache c(cache, coarse);
	EXPECT_EQ(c.hash(f.string()), sha256_hex_plain("SELECT 2;"));
	EXPECT_EQ(c.reused(), 0u);
}

// A file replaced by another with the same size and the old mtime (touch -r):
// a new inode and a new ctime, so a new hash, even long after (nothing racy).
TEST(HashCache, FileReplacedWithSameSizeAndMtimeIsRehashed) {
	TempDir d;
	fs::path f = d.path / "a.sql", other = d.path / "b.tmp";
	std::string cache = (d.path / "cache").string();
	write(f, "SELECT 1;");
	{
		HashCache c(cache, later());
		EXPECT_EQ(c.hash(f.string()), sha256_hex_plain("SELECT 1;"));
		c.save();
	}
	struct stat st {};
	ASSERT_EQ(::stat(f.c_str(), &st), 0);
	write(other, "SELECT 2;");
	struct timespec times[2] = {st.st_atim, st.st_mtim};
	ASSERT_EQ(::utimensat(AT_FDCWD, other.c_str(), times, 0), 0);  // touch -r
	fs::rename(other, f);
	struct stat now {};
	ASSERT_EQ(::stat(f.c_str(), &now), 0);
	EXPECT_EQ(now.st_size, st.st_size);
	EXPECT_EQ(now.st_mtim.tv_sec, st.st_mtim.tv_sec);
	EXPECT_EQ(now.st_mtim.tv_nsec, st.st_mtim.tv_nsec);
	HashCache c(cache, later());
	EXPECT_EQ(c.hash(f.string()), sha256_hex_plain("SELECT 2;"));
	EXPECT_EQ(c.reused(), 0u);
}

TEST(HashCache, CorruptCacheIsIgnored) {
	TempDir d;
	fs::path f = d.path / "a.sql";
	write(f, "SELECT 1;");
	std::string cache = (d.path / "cache").string();
	for (const char *junk : {"", "garbage\n", "dbkit-hash-cache 1\nnot an entry\n",
	                         "dbkit-hash-cache 1\n0000 1 2 3 4 5 6 5:a.sql\n"}) {
		write(cache, junk);
		HashCache c(cache, later());
		EXPECT_EQ(c.hash(f.string()), sha256_hex_plain("SELECT 1;")) << junk;
		c.save();  // and replaced by a good one
		HashCache again(cache, later());
		EXPECT_EQ(again.hash(f.string()), sha256_hex_plain("SELECT 1;"));
		EXPECT_EQ(again.reused(), 1u) << junk;
	}
	// an entry with a hash that is not 64 hex digits, for this very file
	struct stat st {};
	ASSERT_EQ(::stat(f.c_str(), &st), 0);
	std::ofstream(cache, std::ios::trunc) << "dbkit-hash-cache 1\nzz " << st.st_dev << " " << st.st_ino << " 9 0 0 0 "
	                                      << f.string().size() << ":" << f.string() << "\n";
	HashCache c(cache, later());
	EXPECT_EQ(c.hash(f.string()), sha256_hex_plain("SELECT 1;"));
	EXPECT_EQ(c.reused(), 0u);
}

TEST(HashCache, UnwritableCacheStillHashes) {
	TempDir d;
	fs::path f = d.path / "a.sql";
	write(f, "SELECT 1;");
	// a cache "directory" that is a file: nothing can be created under it (even as root)
	write(d.path / "blocked", "");
	std::string cache = (d.path / "blocked" / "dbkit" / "cache").string();
	HashCache c(cache, later());
	EXPECT_EQ(c.hash(f.string()), sha256_hex_plain("SELECT 1;"));
	c.save();
	EXPECT_FALSE(fs::exists(cache));
	HashCache off("", later());  // no cache at all
	EXPECT_EQ(off.hash(f.string()), sha256_hex_plain("SELECT 1;"));
	off.save();
}

TEST(HashCache, MissingFileIsNotHashed) {
	TempDir d;
	HashCache c((d.path / "cache").string(), later());
	EXPECT_FALSE(c.hash((d.path / "nope.sql").string()));
	EXPECT_FALSE(c.hash(d.path.string()));  // a directory
}

TEST(HashCache, CacheFileNamedByFolderUnderXdg) {
	const char *h = std::getenv("HOME");
	std::string home = h ? h : "";
	setenv("XDG_CACHE_HOME", "/x/cache", 1);
	EXPECT_EQ(HashCache::default_dir(), "/x/cache/dbkit");
	setenv("XDG_CACHE_HOME", "relative", 1);  // invalid by the spec: ignored
	setenv("HOME", "/home/u", 1);
	EXPECT_EQ(HashCache::default_dir(), "/home/u/.cache/dbkit");
	unsetenv("XDG_CACHE_HOME");
	setenv("HOME", home.c_str(), 1);
	EXPECT_NE(HashCache::file_for("/c", "/p/a"), HashCache::file_for("/c", "/p/b"));
	EXPECT_EQ(HashCache::file_for("", "/p/a"), "");
}

// One cache file per folder ever seen: a folder seen for the first time removes
// the files of folders not used for 30 days (and old temp files); recent ones stay.
TEST(HashCache, ForgottenFoldersCachesArePruned) {
	TempDir d;
	fs::create_directories(d.path / "cache");
	write(d.path / "cache" / "hashes-old", "dbkit-hash-cache 1\n");
	write(d.path / "cache" / "hashes-old.tmp.123", "partial");
	write(d.path / "cache" / "hashes-recent", "dbkit-hash-cache 1\n");
	write(d.path / "cache" / "not-ours", "x");
	struct timespec old_times[2] = {{time(nullptr) - 40 * 24 * 3600, 0}, {time(nullptr) - 40 * 24 * 3600, 0}};
	for (const char *n : {"hashes-old", "hashes-old.tmp.123", "not-ours"})
		ASSERT_EQ(::utimensat(AT_FDCWD, (d.path / "cache" / n).c_str(), old_times, 0), 0);
	write(d.path / "a.sql", "SELECT 1;");
	{
		HashCache c((d.path / "cache" / "hashes-new").string(), later());
		c.hash((d.path / "a.sql").string());
		c.save();
	}
	EXPECT_TRUE(fs::exists(d.path / "cache" / "hashes-new"));
	EXPECT_TRUE(fs::exists(d.path / "cache" / "hashes-recent"));
	EXPECT_TRUE(fs::exists(d.path / "cache" / "not-ours"));
	EXPECT_FALSE(fs::exists(d.path / "cache" / "hashes-old"));
	EXPECT_FALSE(fs::exists(d.path / "cache" / "hashes-old.tmp.123"));
	// a cache in use but unchanged for more than a day is touched, so it never ages out
	ASSERT_EQ(::utimensat(AT_FDCWD, (d.path / "cache" / "hashes-new").c_str(), old_times, 0), 0);
	{
		HashCache c((d.path / "cache" / "hashes-new").string(), later());
		EXPECT_EQ(c.reused(), 0u);
		c.hash((d.path / "a.sql").string());
		EXPECT_EQ(c.reused(), 1u);
		c.save();
	}
	struct stat st {};
	ASSERT_EQ(::stat((d.path / "cache" / "hashes-new").c_str(), &st), 0);
	EXPECT_GT(st.st_mtime, time(nullptr) - 3600);
}
