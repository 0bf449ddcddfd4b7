#include "text.hpp"

namespace dbkit::core {

std::vector<Chunk> split_breakpoints(std::string_view sql) {
	std::vector<Chunk> out;
	// A leading UTF-8 byte order mark is not SQL: psql skips it, so does dbkit. The hash
	// still covers the file's raw bytes, as drizzle's does.
	size_t start = sql.substr(0, kUtf8Bom.size()) == kUtf8Bom ? kUtf8Bom.size() : 0;
	for (;;) {
		size_t hit = sql.find(kBreakpoint, start);
		if (hit == std::string_view::npos) {
			out.push_back({start, sql.substr(start)});
			return out;
		}
		out.push_back({start, sql.substr(start, hit - start)});
		start = hit + kBreakpoint.size();
	}
}

size_t stray_bom(std::string_view sql) {
	size_t hit = sql.find(kUtf8Bom, 1);
	return hit == std::string_view::npos ? 0 : hit;
}

int line_at(std::string_view text, size_t offset) {
	int line = 1;
	if (offset > text.size())
		offset = text.size();
	for (size_t i = 0; i < offset; ++i)
		if (text[i] == '\n')
			++line;
	return line;
}

size_t skip_space_and_comments(std::string_view t, size_t pos) {
	while (pos < t.size()) {
		char c = t[pos];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
			++pos;
		} else if (c == '-' && pos + 1 < t.size() && t[pos + 1] == '-') {
			size_t nl = t.find('\n', pos);
			pos = nl == std::string_view::npos ? t.size() : nl + 1;
		} else if (c == '/' && pos + 1 < t.size() && t[pos + 1] == '*') {
			int depth = 1;  // SQL block comments nest
			pos += 2;
			while (pos < t.size() && depth > 0) {
				if (t.compare(pos, 2, "/*") == 0) {
					++depth;
					pos += 2;
				} else if (t.compare(pos, 2, "*/") == 0) {
					--depth;
					pos += 2;
				} else {
					++pos;
				}
			}
		} else {
			break;
		}
	}
	return pos;
}

size_t byte_offset_of_char(std::string_view s, int char_pos) {
	size_t pos = 0;
	for (int n = 1; n < char_pos && pos < s.size(); ++n) {
		++pos;
		while (pos < s.size() && (static_cast<unsigned char>(s[pos]) & 0xC0) == 0x80)
			++pos;
	}
	return pos;
}

bool valid_utf8(std::string_view s, size_t *bad) {
	size_t i = 0;
	const size_t n = s.size();
	while (i < n) {
		unsigned char c = static_cast<unsigned char>(s[i]);
		size_t len;
		unsigned min;
		unsigned cp;
		if (c == 0) {
			*bad = i;
			return false;
		}
		if (c < 0x80) {
			++i;
			continue;
		} else if ((c & 0xE0) == 0xC0) {
			len = 2, cp = c & 0x1F, min = 0x80;
		} else if ((c & 0xF0) == 0xE0) {
			len = 3, cp = c & 0x0F, min = 0x800;
		} else if ((c & 0xF8) == 0xF0) {
			len = 4, cp = c & 0x07, min = 0x10000;
		} else {
			*bad = i;
			return false;
		}
		if (i + len > n) {
			*bad = i;
			return false;
		}
		for (size_t k = 1; k < len; ++k) {
			unsigned char cc = static_cast<unsigned char>(s[i + k]);
			if ((cc & 0xC0) != 0x80) {
				*bad = i;
				return false;
			}
			cp = (cp << 6) | (cc & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
			*bad = i;
			return false;
		}
		i += len;
	}
	return true;
}

std::string flip_line_endings(std::string_view s) {
	std::string out;
	out.reserve(s.size() + s.size() / 16);
	if (s.find("\r\n") != std::string_view::npos) {
		for (size_t i = 0; i < s.size(); ++i)
			if (!(s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n'))
				out += s[i];
	} else {
		for (char c : s) {
			if (c == '\n')
				out += '\r';
			out += c;
		}
	}
	return out;
}

}  // namespace dbkit::core
