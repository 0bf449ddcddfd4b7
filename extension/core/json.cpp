#include "json.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstdio>
#include <cstring>

namespace dbkit::core {

namespace {

constexpr int kMaxDepth = 256;

class Reader {
public:
	Reader(std::string_view t, JsonError &e) : text_(t), err_(e) {}

	bool document(JsonValue &out) {
		skip_ws();
		if (!value(out, 0))
			return false;
		skip_ws();
		if (pos_ != text_.size())
			return fail("unexpected text after the end of the JSON value");
		return true;
	}

private:
	std::string_view text_;
	JsonError &err_;
	size_t pos_ = 0;
	int line_ = 1;
	size_t line_start_ = 0;

	int column() const { return static_cast<int>(pos_ - line_start_) + 1; }

	bool fail(std::string msg) {
		err_.message = std::move(msg);
		err_.line = line_;
		err_.column = column();
		err_.offset = pos_;
		return false;
	}

	void skip_ws() {
		while (pos_ < text_.size()) {
			char c = text_[pos_];
			if (c == '\n') {
				++line_;
				line_start_ = pos_ + 1;
			} else if (c != ' ' && c != '\t' && c != '\r') {
				break;
			}
			++pos_;
		}
	}

	bool literal(std::string_view word) {
		if (text_.substr(pos_, word.size()) != word)
			return fail("invalid token");
		pos_ += word.size();
		return true;
	}

	bool value(JsonValue &v, int depth) {
		if (depth > kMaxDepth)
			return fail("JSON nested too deeply");
		v.line = line_;
		v.column = column();
		if (pos_ >= text_.size())
			return fail("unexpected end of input");
		char c = text_[pos_];
		switch (c) {
		case '{': return object(v, depth);
		case '[': return array(v, depth);
		case '"': v.kind = JsonValue::Kind::String; return string(v.string);
		case 't': v.kind = JsonValue::Kind::Bool; v.boolean = true; return literal("true");
		case 'f': v.kind = JsonValue::Kind::Bool; v.boolean = false; return literal("false");
		case 'n': v.kind = JsonValue::Kind::Null; return literal("null");
		default:
			if (c == '-' || (c >= '0' && c <= '9'))
				return number(v);
			if (static_cast<unsigned char>(c) >= 0x80 || static_cast<unsigned char>(c) < 0x20) {
				char buf[64];
				std::snprintf(buf, sizeof buf, "unexpected byte 0x%02X%s", static_cast<unsigned char>(c),
				              text_.substr(pos_, 3) == "\xEF\xBB\xBF" ? " (a UTF-8 byte order mark)" : "");
				return fail(buf);
			}
			return fail(std::string("unexpected character '") + c + "'");
		}
	}

	bool object(JsonValue &v, int depth) {
		v.kind = JsonValue::Kind::Object;
		++pos_;
		skip_ws();
		if (pos_ < text_.size() && text_[pos_] == '}') {
			++pos_;
			return true;
		}
		for (;;) {
			skip_ws();
			if (pos_ >= text_.size() || text_[pos_] != '"')
				return fail("expected a string key");
			std::string key;
			if (!string(key))
				return false;
			skip_ws();
			if (pos_ >= text_.size() || text_[pos_] != ':')
				return fail("expected ':' after key");
			++pos_;
			skip_ws();
			JsonValue member;
			if (!value(member, depth + 1))
				return false;
			v.members.emplace_back(std::move(key), std::move(member));
			skip_ws();
			if (pos_ < text_.size() && text_[pos_] == ',') {
				++pos_;
				continue;
			}
			if (pos_ < text_.size() && text_[pos_] == '}') {
				++pos_;
				return true;
			}
			return fail("expected ',' or '}'");
		}
	}

	bool array(JsonValue &v, int depth) {
		v.kind = JsonValue::Kind::Array;
		++pos_;
		skip_ws();
		if (pos_ < text_.size() && text_[pos_] == ']') {
			++pos_;
			return true;
		}
		for (;;) {
			skip_ws();
			JsonValue item;
			if (!value(item, depth + 1))
				return false;
			v.items.push_back(std::move(item));
			skip_ws();
			if (pos_ < text_.size() && text_[pos_] == ',') {
				++pos_;
				continue;
			}
			if (pos_ < text_.size() && text_[pos_] == ']') {
				++pos_;
				return true;
			}
			return fail("expected ',' or ']'");
		}
	}

	static void put_utf8(std::string &s, uint32_t cp) {
		if (cp < 0x80) {
			s += static_cast<char>(cp);
		} else if (cp < 0x800) {
			s += static_cast<char>(0xC0 | (cp >> 6));
			s += static_cast<char>(0x80 | (cp & 0x3F));
		} else if (cp < 0x10000) {
			s += static_cast<char>(0xE0 | (cp >> 12));
			s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
			s += static_cast<char>(0x80 | (cp & 0x3F));
		} else {
			s += static_cast<char>(0xF0 | (cp >> 18));
			s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
			s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
			s += static_cast<char>(0x80 | (cp & 0x3F));
		}
	}

	bool hex4(uint32_t &out) {
		out = 0;
		for (int i = 0; i < 4; ++i) {
			if (pos_ >= text_.size())
				return fail("unexpected end of input in \\u escape");
			char c = text_[pos_++];
			out <<= 4;
			if (c >= '0' && c <= '9') out |= c - '0';
			else if (c >= 'a' && c <= 'f') out |= c - 'a' + 10;
			else if (c >= 'A' && c <= 'F') out |= c - 'A' + 10;
			else return fail("invalid \\u escape");
		}
		return true;
	}

	bool string(std::string &out) {
		++pos_;  // opening quote
		for (;;) {
			if (pos_ >= text_.size())
				return fail("unterminated string");
			unsigned char c = static_cast<unsigned char>(text_[pos_]);
			if (c == '"') {
				++pos_;
				return true;
			}
			if (c < 0x20)
				return fail("control character inside a string");
			if (c != '\\') {
				out += static_cast<char>(c);
				++pos_;
				continue;
			}
			++pos_;
			if (pos_ >= text_.size())
				return fail("unterminated string");
			char e = text_[pos_++];
			switch (e) {
			case '"': out += '"'; break;
			case '\\': out += '\\'; break;
			case '/': out += '/'; break;
			case 'b': out += '\b'; break;
			case 'f': out += '\f'; break;
			case 'n': out += '\n'; break;
			case 'r': out += '\r'; break;
			case 't': out += '\t'; break;
			case 'u': {
				uint32_t cp;
				if (!hex4(cp))
					return false;
				if (cp >= 0xD800 && cp <= 0xDBFF) {
					uint32_t lo;
					if (text_.substr(pos_, 2) != "\\u")
						return fail("unpaired surrogate in \\u escape");
					pos_ += 2;
					if (!hex4(lo))
						return false;
					if (lo < 0xDC00 || lo > 0xDFFF)
						return fail("unpaired surrogate in \\u escape");
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				} else if (cp >= 0xDC00 && cp <= 0xDFFF) {
					return fail("unpaired surrogate in \\u escape");
				}
				if (cp == 0)
					return fail("\\u0000 is not allowed");
				put_utf8(out, cp);
				break;
			}
			default:
				return fail(std::string("invalid escape '\\") + e + "'");
			}
		}
	}

	bool number(JsonValue &v) {
		v.kind = JsonValue::Kind::Number;
		size_t start = pos_;
		bool integral = true;
		if (text_[pos_] == '-')
			++pos_;
		if (pos_ >= text_.size() || !isdigit(static_cast<unsigned char>(text_[pos_])))
			return fail("invalid number");
		if (text_[pos_] == '0' && pos_ + 1 < text_.size() && isdigit(static_cast<unsigned char>(text_[pos_ + 1])))
			return fail("invalid number (leading zero)");
		while (pos_ < text_.size() && isdigit(static_cast<unsigned char>(text_[pos_])))
			++pos_;
		if (pos_ < text_.size() && text_[pos_] == '.') {
			integral = false;
			++pos_;
			if (pos_ >= text_.size() || !isdigit(static_cast<unsigned char>(text_[pos_])))
				return fail("invalid number");
			while (pos_ < text_.size() && isdigit(static_cast<unsigned char>(text_[pos_])))
				++pos_;
		}
		if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
			integral = false;
			++pos_;
			if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-'))
				++pos_;
			if (pos_ >= text_.size() || !isdigit(static_cast<unsigned char>(text_[pos_])))
				return fail("invalid number");
			while (pos_ < text_.size() && isdigit(static_cast<unsigned char>(text_[pos_])))
				++pos_;
		}
		std::string lit(text_.substr(start, pos_ - start));
		v.number = std::strtod(lit.c_str(), nullptr);
		if (integral) {
			errno = 0;
			long long n = std::strtoll(lit.c_str(), nullptr, 10);
			if (errno == 0) {
				v.is_integer = true;
				v.integer = n;
			}
		}
		return true;
	}
};

}  // namespace

const JsonValue *JsonValue::find(std::string_view key) const {
	const JsonValue *found = nullptr;
	for (const auto &m : members)
		if (m.first == key)
			found = &m.second;
	return found;
}

const char *JsonValue::kind_name(Kind k) {
	switch (k) {
	case Kind::Null: return "null";
	case Kind::Bool: return "boolean";
	case Kind::Number: return "number";
	case Kind::String: return "string";
	case Kind::Array: return "array";
	case Kind::Object: return "object";
	}
	return "?";
}

std::optional<std::string> json_string_member(std::string_view text, std::string_view key) {
	JsonValue v;
	JsonError err;
	if (!parse_json(text, v, err) || v.kind != JsonValue::Kind::Object)
		return std::nullopt;
	const JsonValue *m = v.find(key);
	if (!m || m->kind != JsonValue::Kind::String)
		return std::nullopt;
	return m->string;
}

void append_json_quoted(std::string &out, std::string_view s) {
	static constexpr char kHex[] = "0123456789abcdef";
	out += '"';
	size_t run = 0;  // start of the bytes not copied yet
	for (size_t i = 0; i < s.size(); ++i) {
		unsigned char c = static_cast<unsigned char>(s[i]);
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		out.append(s.data() + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': out += "\\\""; break;
		case '\\': out += "\\\\"; break;
		case '\n': out += "\\n"; break;
		case '\r': out += "\\r"; break;
		case '\t': out += "\\t"; break;
		default:
			out += "\\u00";
			out += kHex[c >> 4];
			out += kHex[c & 0xf];
		}
	}
	out.append(s.data() + run, s.size() - run);
	out += '"';
}

std::string json_quote(std::string_view s) {
	std::string out;
	out.reserve(s.size() + 2);
	append_json_quoted(out, s);
	return out;
}

bool parse_json(std::string_view text, JsonValue &out, JsonError &err) {
	out = JsonValue{};
	return Reader(text, err).document(out);
}

}  // namespace dbkit::core
