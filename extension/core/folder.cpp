#include "folder.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "json.hpp"
#include "text.hpp"

namespace dbkit::core {

namespace {

constexpr std::string_view kJournalPath = "meta/_journal.json";

void add(std::vector<Finding> &out, Severity sev, std::string code, std::string subject, std::string message,
         std::string hint) {
	out.push_back({sev, std::move(code), std::move(subject), std::move(message), std::move(hint)});
}

bool ends_with(std::string_view s, std::string_view suffix) {
	return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Journal-layout SQL files sit beside meta/; folders-layout files are <dir>/migration.sql.
bool is_top_level_sql(std::string_view path) {
	return ends_with(path, ".sql") && path.find('/') == std::string_view::npos;
}
bool is_folder_migration(std::string_view path) {
	size_t slash = path.find('/');
	return slash != std::string_view::npos && slash > 0 && path.substr(slash) == "/migration.sql";
}

const char *kind_of(const JsonValue &v) { return JsonValue::kind_name(v.kind); }

void load_journal(std::string_view text, const std::map<std::string_view, std::string_view> &sql_files, Folder &f) {
	auto &out = f.findings;
	JsonValue root;
	JsonError jerr;
	if (!parse_json(text, root, jerr)) {
		add(out, Severity::Error, "journal.malformed_json", std::string(kJournalPath),
		    fmt::format("{}: invalid JSON at line {}, column {}: {}", kJournalPath, jerr.line, jerr.column,
		                jerr.message),
		    "Fix the JSON (a merge conflict marker or a missing comma is the usual cause), or restore the file "
		    "from version control.");
		return;
	}
	if (root.kind != JsonValue::Kind::Object) {
		add(out, Severity::Error, "journal.not_object", std::string(kJournalPath),
		    fmt::format("{}: the journal must be a JSON object, found {}", kJournalPath, kind_of(root)),
		    "Restore meta/_journal.json as drizzle-kit wrote it.");
		return;
	}
	const JsonValue *version = root.find("version");
	if (!version) {
		add(out, Severity::Error, "journal.version_missing", std::string(kJournalPath),
		    fmt::format("{}: field \"version\" is missing", kJournalPath),
		    "drizzle-kit writes \"version\": \"7\"; restore the field.");
	} else if (version->kind != JsonValue::Kind::String) {
		add(out, Severity::Error, "journal.version_unsupported", std::string(kJournalPath),
		    fmt::format("{}: field \"version\" must be a string, found {}", kJournalPath, kind_of(*version)),
		    "drizzle-kit writes \"version\": \"7\".");
	} else if (version->string != "5" && version->string != "6" && version->string != "7") {
		add(out, Severity::Error, "journal.version_unsupported", std::string(kJournalPath),
		    fmt::format("{}: journal version \"{}\" is not supported (supported: 5, 6, 7)", kJournalPath,
		                version->string),
		    "Regenerate the journal with drizzle-kit 0.x, or upgrade dbkit.");
	}
	const JsonValue *dialect = root.find("dialect");
	if (!dialect) {
		add(out, Severity::Error, "journal.dialect_missing", std::string(kJournalPath),
		    fmt::format("{}: field \"dialect\" is missing", kJournalPath),
		    "drizzle-kit writes \"dialect\": \"postgresql\"; restore the field.");
	} else if (dialect->kind != JsonValue::Kind::String ||
	           (dialect->string != "postgresql" && dialect->string != "pg")) {
		add(out, Severity::Error, "journal.dialect_unsupported", std::string(kJournalPath),
		    fmt::format("{}: dialect {} is not supported: dbkit applies PostgreSQL migrations only", kJournalPath,
		                dialect->kind == JsonValue::Kind::String ? "\"" + dialect->string + "\""
		                                                         : std::string(kind_of(*dialect))),
		    "Point --dir at the folder drizzle-kit generated for PostgreSQL (dialect \"postgresql\").");
	}
	const JsonValue *entries = root.find("entries");
	if (!entries || entries->kind != JsonValue::Kind::Array) {
		add(out, Severity::Error, "journal.entries_missing", std::string(kJournalPath),
		    entries ? fmt::format("{}: \"entries\" must be an array, found {}", kJournalPath, kind_of(*entries))
		            : fmt::format("{}: field \"entries\" is missing", kJournalPath),
		    "Restore meta/_journal.json from version control.");
		return;
	}

	std::set<int64_t> seen_idx;
	std::set<std::string> seen_tag;
	int64_t prev_when = INT64_MIN;
	int64_t prev_idx = -1;  // the previous entry's idx (-1: none yet)
	std::string prev_tag;
	for (size_t i = 0; i < entries->items.size(); ++i) {
		const JsonValue &e = entries->items[i];
		// an entry refused below still takes its place in the numbering
		const int64_t expected_idx = prev_idx + 1;
		prev_idx = expected_idx;
		// built only for a finding: 10,000 entries would otherwise format 20,000 strings for nothing
		const JsonValue *tag = nullptr;
		auto where = [&]() {
			if (tag && tag->kind == JsonValue::Kind::String)
				return fmt::format("{}: entry \"{}\" (entries[{}], line {})", kJournalPath,
				                   tag->string.size() > 80 ? tag->string.substr(0, 80) + "..." : tag->string, i, e.line);
			return fmt::format("{}: entries[{}] (line {})", kJournalPath, i, e.line);
		};
		if (e.kind != JsonValue::Kind::Object) {
			add(out, Severity::Error, "journal.entry_invalid", std::string(kJournalPath),
			    fmt::format("{} must be an object, found {}", where(), kind_of(e)),
			    "Restore the entry as drizzle-kit wrote it.");
			continue;
		}
		tag = e.find("tag");
		bool ok = true;
		auto need = [&](const char *field, JsonValue::Kind kind, bool integer) -> const JsonValue * {
			const JsonValue *v = e.find(field);
			if (!v) {
				add(out, Severity::Error, "journal.entry_field_missing",
				    tag && tag->kind == JsonValue::Kind::String ? tag->string : std::string(kJournalPath),
				    fmt::format("{}: field \"{}\" is missing", where(), field),
				    "Restore the entry as drizzle-kit wrote it (idx, version, when, tag, breakpoints).");
				ok = false;
				return nullptr;
			}
			if (v->kind != kind || (integer && !v->is_integer)) {
				bool tag_ok = tag && tag->kind == JsonValue::Kind::String;
				add(out, Severity::Error, "journal.entry_field_type", tag_ok ? tag->string : std::string(kJournalPath),
				    fmt::format("{}: field \"{}\" must be {}, found {}", where(), field,
				                integer ? "an integer" : JsonValue::kind_name(kind),
				                v->kind == JsonValue::Kind::Number && kind == JsonValue::Kind::Number
				                    ? "a fraction or a number out of range"
				                    : kind_of(*v)),
				    "Restore the entry as drizzle-kit wrote it.");
				ok = false;
				return nullptr;
			}
			return v;
		};
		const JsonValue *idx = need("idx", JsonValue::Kind::Number, true);
		const JsonValue *when = need("when", JsonValue::Kind::Number, true);
		const JsonValue *tagv = need("tag", JsonValue::Kind::String, false);
		const JsonValue *bp = need("breakpoints", JsonValue::Kind::Bool, false);
		if (const JsonValue *ver = e.find("version"); ver && ver->kind != JsonValue::Kind::String) {
			add(out, Severity::Error, "journal.entry_field_type", tag ? tag->string : std::string(kJournalPath),
			    fmt::format("{}: field \"version\" must be a string, found {}", where(), kind_of(*ver)),
			    "Restore the entry as drizzle-kit wrote it.");
			ok = false;
		}
		if (!ok)
			continue;
		const std::string &t = tagv->string;
		if (!tag_is_safe(t)) {
			add(out, Severity::Error, "journal.tag_invalid", std::string(kJournalPath),
			    fmt::format("{}: tag \"{}\" is not a plain file name", where(),
			                t.size() > 80 ? t.substr(0, 80) + "..." : t),
			    "A tag names <tag>.sql beside meta/: it must be 1 to 255 bytes, without '/', '\\', '..' or control "
			    "characters.");
			continue;
		}
		if (idx->integer < 0 || idx->integer > INT32_MAX) {
			add(out, Severity::Error, "journal.entry_field_type", t,
			    fmt::format("{}: idx {} is out of range (0 to {})", where(), idx->integer, INT32_MAX),
			    "drizzle-kit numbers entries 0, 1, 2, ...; restore the entry's idx.");
			continue;
		}
		if (!seen_idx.insert(idx->integer).second) {
			add(out, Severity::Error, "journal.idx_duplicate", t,
			    fmt::format("{}: idx {} is used by an earlier entry too", where(), idx->integer),
			    "Two branches generated migrations with the same number: renumber one (regenerate it after the "
			    "other) so idx values are unique.");
		} else if (idx->integer != expected_idx) {  // once per gap, not for every entry after it
			add(out, Severity::Warning, "journal.idx_not_contiguous", t,
			    fmt::format("{}: idx is {}, expected {} ({})", where(), idx->integer, expected_idx,
			                expected_idx == 0 ? "the first entry's" : "one more than the entry before it"),
			    "drizzle-kit numbers entries 0, 1, 2, ...; a gap usually means an entry was deleted or merged by "
			    "hand. dbkit applies in journal order regardless.");
		}
		prev_idx = idx->integer;
		if (!seen_tag.insert(t).second) {
			add(out, Severity::Error, "journal.tag_duplicate", t, fmt::format("{}: tag \"{}\" appears twice", where(), t),
			    "Remove the duplicated entry from meta/_journal.json.");
			continue;
		}
		if (when->integer <= prev_when) {
			add(out, Severity::Warning, "journal.when_not_increasing", t,
			    fmt::format("{}: when {} is not after that of \"{}\" ({}), an entry before it; drizzle's own migrator "
			                "silently skips this migration on a database that applied \"{}\" before it (it runs only "
			                "entries whose `when` is after the last applied one's; a fresh database runs them all)",
			                where(), when->integer, prev_tag, prev_when, prev_tag),
			    "dbkit applies it anyway (it matches by tag and hash). If drizzle's migrator also runs against "
			    "this database, give this entry a `when` larger than the previous one.");
		}
		if (when->integer > prev_when) {  // the pair named above is the entry with the largest `when` so far
			prev_when = when->integer;
			prev_tag = t;
		}
		std::string file = t + ".sql";
		auto it = sql_files.find(file);
		if (it == sql_files.end()) {
			add(out, Severity::Error, "journal.file_missing", t,
			    fmt::format("{}: the file {} does not exist", where(), file),
			    fmt::format("Restore {} from version control, or remove its entry from meta/_journal.json if the "
			                "migration was never applied anywhere.",
			                file));
			continue;
		}
		Migration m;
		m.idx = idx->integer;
		m.tag = t;
		m.when = when->integer;
		m.breakpoints = bp->boolean;
		m.file = std::move(file);
		m.sql = it->second;
		// the up file wins: a tag that itself ends in ".down" keeps its <tag>.sql
		if (auto d = sql_files.find(t + ".down.sql"); d != sql_files.end()) {
			m.down_file = t + ".down.sql";
			m.down_sql = d->second;
		}
		f.migrations.push_back(std::move(m));
	}
}

bool is_folder_down(std::string_view path) {
	size_t slash = path.find('/');
	return slash != std::string_view::npos && slash > 0 && path.substr(slash) == "/down.sql";
}

void load_folders(const std::vector<std::pair<std::string_view, std::string_view>> &files, Folder &f) {
	std::vector<std::pair<std::string_view, std::string_view>> dirs;
	std::map<std::string_view, std::string_view> downs;  // dir -> down.sql
	for (const auto &[path, content] : files) {
		if (is_folder_migration(path))
			dirs.emplace_back(path.substr(0, path.find('/')), content);
		else if (is_folder_down(path))
			downs.emplace(path.substr(0, path.find('/')), content);
	}
	for (const auto &[dir, _] : downs)
		if (std::none_of(dirs.begin(), dirs.end(), [&](const auto &d) { return d.first == dir; }))
			add(f.findings, Severity::Warning, "folder.down_unmatched", std::string(dir) + "/down.sql",
			    fmt::format("{}/down.sql has no migration.sql beside it: it reverses nothing", dir),
			    "Move the down file into the folder of the migration it reverses, or delete it.");
	std::sort(dirs.begin(), dirs.end());
	int64_t idx = 0;
	for (const auto &[dir, content] : dirs) {
		auto millis = folder_name_millis(dir);
		if (!millis || !tag_is_safe(dir)) {
			add(f.findings, Severity::Error, "folder.name_invalid", std::string(dir),
			    fmt::format("{}/migration.sql: the folder name must start with a 14-digit UTC timestamp "
			                "(YYYYMMDDHHMMSS_name) as drizzle-kit 1.0 writes it",
			                dir),
			    "Rename the folder to drizzle-kit's pattern, or move it out of the migrations folder.");
			continue;
		}
		Migration m;
		m.idx = idx++;
		m.tag = std::string(dir);
		m.when = *millis;
		m.file = std::string(dir) + "/migration.sql";
		m.sql = content;
		if (auto d = downs.find(dir); d != downs.end()) {
			m.down_file = std::string(dir) + "/down.sql";
			m.down_sql = d->second;
		}
		f.migrations.push_back(std::move(m));
	}
}

}  // namespace

bool is_down_file(std::string_view path) {
	return path.find('/') == std::string_view::npos && ends_with(path, ".down.sql") && path.size() > 9;
}

bool tag_is_safe(std::string_view tag) {
	if (tag.empty() || tag.size() > 255 || tag == "." || tag.find("..") != std::string_view::npos)
		return false;
	for (char c : tag)
		if (c == '/' || c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
			return false;
	return true;
}

std::optional<int64_t> folder_name_millis(std::string_view name) {
	if (name.size() < 15 || name[14] != '_')
		return std::nullopt;
	int v[6];
	const int widths[6] = {4, 2, 2, 2, 2, 2};
	size_t p = 0;
	for (int i = 0; i < 6; ++i) {
		v[i] = 0;
		for (int k = 0; k < widths[i]; ++k, ++p) {
			char c = name[p];
			if (c < '0' || c > '9')
				return std::nullopt;
			v[i] = v[i] * 10 + (c - '0');
		}
	}
	int y = v[0], mo = v[1], d = v[2];
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60)
		return std::nullopt;
	// days from civil (Howard Hinnant's algorithm), no time zone involved
	y -= mo <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const int64_t yoe = y - era * 400;
	const int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	const int64_t days = era * 146097 + doe - 719468;
	return ((days * 24 + v[3]) * 60 + v[4]) * 60000 + int64_t(v[5]) * 1000;
}

Folder load_folder(const FolderInput &in) {
	Folder f;
	std::map<std::string_view, std::string_view> top_sql;
	bool has_folders = false;
	for (const auto &[path, content] : in.files) {
		if (is_top_level_sql(path))
			top_sql.emplace(path, content);
		else if (is_folder_migration(path))
			has_folders = true;
	}
	if (in.journal && has_folders) {
		add(f.findings, Severity::Error, "folder.both_layouts", std::string(kJournalPath),
		    "the folder has both meta/_journal.json (drizzle-kit 0.x) and <timestamp>_name/migration.sql folders "
		    "(drizzle-kit 1.0); drizzle refuses such a folder and so does dbkit",
		    "Finish the conversion (`drizzle-kit up`) and remove the old layout, or move the stray folders out.");
		return f;
	}
	if (in.journal) {
		f.layout = Folder::Layout::Journal;
		load_journal(*in.journal, top_sql, f);
		std::set<std::string_view> named;
		for (const auto &m : f.migrations) {
			named.insert(m.file);
			if (m.down_sql)
				named.insert(m.down_file);
		}
		for (const auto &[path, _] : top_sql) {
			if (named.count(path))
				continue;
			if (is_down_file(path)) {
				std::string up(path.substr(0, path.size() - 9));
				// its migration failed to load: that entry is reported already
				bool reported = std::any_of(f.findings.begin(), f.findings.end(), [&](const Finding &x) {
					return x.subject == up || (x.severity == Severity::Error && x.subject == kJournalPath);
				});
				if (!reported)
					add(f.findings, Severity::Warning, "folder.down_unmatched", std::string(path),
					    fmt::format("{} reverses no migration: {} names no entry \"{}\"", path, kJournalPath, up),
					    fmt::format("Name it <tag>.down.sql after the migration it reverses, or delete it."));
				continue;
			}
			// A file whose entry failed to load is reported by that entry already;
			// a journal that could not be read at all names no file.
			std::string tag(path.substr(0, path.size() - 4));
			bool reported = std::any_of(f.findings.begin(), f.findings.end(), [&](const Finding &x) {
				return x.subject == tag || (x.severity == Severity::Error && x.subject == kJournalPath);
			});
			if (!reported)
				add(f.findings, Severity::Warning, "folder.file_unlisted", std::string(path),
				    fmt::format("{} is not named by any entry of {}: it will never be applied", path, kJournalPath),
				    "Add its entry to the journal (drizzle-kit generate does this), or delete the file.");
		}
	} else if (has_folders) {
		f.layout = Folder::Layout::Folders;
		load_folders(in.files, f);
	} else if (!top_sql.empty()) {
		add(f.findings, Severity::Error, "journal.missing", std::string(kJournalPath),
		    fmt::format("the folder has {} .sql file(s) but no {}", top_sql.size(), kJournalPath),
		    "Restore meta/_journal.json from version control; without it the order of the migrations is unknown.");
	} else {
		add(f.findings, Severity::Error, "folder.empty", "",
		    "the folder has no migrations: no meta/_journal.json and no <timestamp>_name/migration.sql",
		    "Point --dir at the folder drizzle-kit generates (drizzle.config's `out`, often src/db/migrations or "
		    "drizzle/).");
	}
	return f;
}

}  // namespace dbkit::core
