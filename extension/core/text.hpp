// Text helpers over migration files: breakpoint split, line numbers, UTF-8.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace dbkit::core {

inline constexpr std::string_view kBreakpoint = "--> statement-breakpoint";
inline constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

struct Chunk {
	size_t offset;          // byte offset of the chunk in its file
	std::string_view text;  // the chunk, untrimmed (drizzle sends it as is)
};

// Plain substring split on the breakpoint marker, exactly as drizzle does. A UTF-8 byte
// order mark at the very start of the file is skipped (as psql does).
std::vector<Chunk> split_breakpoints(std::string_view sql);

// Byte offset of a UTF-8 byte order mark anywhere but the start of the file, else 0.
size_t stray_bom(std::string_view sql);

// 1-based line number of a byte offset.
int line_at(std::string_view text, size_t offset);

// First byte at or after `pos` that is not whitespace or part of a SQL comment.
size_t skip_space_and_comments(std::string_view text, size_t pos);

// Byte offset of the 1-based character position `char_pos` (PostgreSQL error
// positions count characters, parse locations count bytes).
size_t byte_offset_of_char(std::string_view utf8, int char_pos);

// True when `s` is valid UTF-8 without NUL bytes; else `bad` is the offending offset.
bool valid_utf8(std::string_view s, size_t *bad);

// True when only whitespace and comments remain.
inline bool blank_sql(std::string_view s) { return skip_space_and_comments(s, 0) >= s.size(); }

// `s` with CRLF line endings made LF when it has any, else every LF made CRLF: the
// other form a checkout gives the same file (git's core.autocrlf).
std::string flip_line_endings(std::string_view s);

}  // namespace dbkit::core
