#include "drizzle_snapshots.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "commutativity.hpp"
#include "json.hpp"
#include "text.hpp"

namespace dbkit::core {

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
	return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool is_snapshot_path(std::string_view p) {
	if (p.rfind("meta/", 0) == 0)
		return ends_with(p, "_snapshot.json") && p.find('/', 5) == std::string_view::npos;
	size_t slash = p.find('/');
	return slash != std::string_view::npos && p.substr(slash) == "/snapshot.json";
}

// One snapshot: drizzle-kit 0.x writes "prevId"; 1.0 writes "prevIds" (two
// parents when it records a merge of two branches).
struct Snap {
	std::string path, id;
	std::vector<std::string> prevs;
	std::string_view content;
};

// The objects a snapshot declares; nullopt when dbkit cannot read its format.
std::optional<ObjectMap> objects_of(const Snap *s) {
	ObjectMap out;
	if (!s)
		return out;  // the empty schema before the first snapshot
	JsonValue v;
	JsonError err;
	std::string error;
	if (!parse_json(s->content, v, err) || !code_objects(v, out, error))
		return std::nullopt;
	return out;
}

}  // namespace

std::vector<Finding> check_drizzle_snapshots(const FolderInput &in, const Folder &folder) {
	std::vector<Finding> out;
	std::vector<Snap> snaps;
	std::set<std::string> present;
	for (const auto &[path, content] : in.files) {
		if (!is_snapshot_path(path))
			continue;
		present.insert(std::string(path));
		JsonValue v;
		JsonError err;
		std::string p(path);
		if (!parse_json(content, v, err)) {
			out.push_back({Severity::Error, "snapshot.unreadable", p,
			               fmt::format("{}: invalid JSON at line {}, column {}: {}", p, err.line, err.column,
			                           err.message),
			               "Restore the snapshot from version control (a merge conflict marker is the usual "
			               "cause); drizzle-kit generate diffs against it."});
			continue;
		}
		const JsonValue *id = v.kind == JsonValue::Kind::Object ? v.find("id") : nullptr;
		const JsonValue *prev = v.kind == JsonValue::Kind::Object ? v.find("prevId") : nullptr;
		const JsonValue *prevs = v.kind == JsonValue::Kind::Object ? v.find("prevIds") : nullptr;
		Snap snap{p, id && id->kind == JsonValue::Kind::String ? id->string : "", {}, content};
		if (prev && prev->kind == JsonValue::Kind::String)
			snap.prevs.push_back(prev->string);
		if (prevs && prevs->kind == JsonValue::Kind::Array)
			for (const auto &x : prevs->items)
				if (x.kind == JsonValue::Kind::String &&
				    std::find(snap.prevs.begin(), snap.prevs.end(), x.string) == snap.prevs.end())
					snap.prevs.push_back(x.string);
		if (snap.id.empty() || snap.prevs.empty()) {
			out.push_back({Severity::Error, "snapshot.unreadable", p,
			               fmt::format("{}: not a drizzle snapshot (a string \"id\" and \"prevId\" or \"prevIds\" are "
			                           "required)",
			                           p),
			               "Restore the snapshot from version control."});
			continue;
		}
		snaps.push_back(std::move(snap));
	}
	if (present.empty())
		return out;

	std::map<std::string, std::vector<const Migration *>> by_path;  // snapshot path -> the entries that name it
	for (const auto &m : folder.migrations) {
		std::string want = snapshot_path(folder, m);
		by_path[want].push_back(&m);
		if (!present.count(want))
			out.push_back({Severity::Warning, "snapshot.missing", m.tag,
			               fmt::format("migration {} has no snapshot {}", m.tag, want),
			               "drizzle-kit generate diffs the schema against the latest snapshot: restore it from "
			               "version control, or regenerate the migration."});
	}

	// Two branches each added migration N (0002_a, 0002_b) and git kept one
	// meta/0002_snapshot.json: both entries point at it, so neither is
	// "missing", and the chain no longer says which schema follows which.
	for (const auto &[path, migs] : by_path) {
		if (migs.size() < 2 || !present.count(path))
			continue;
		std::string names;
		for (size_t i = 0; i < migs.size(); ++i)
			names += (i == 0 ? "" : i + 1 == migs.size() ? " and " : ", ") + migs[i]->tag;
		out.push_back({Severity::Warning, "snapshot.shared", migs.back()->tag,
		               fmt::format("{} share the snapshot {}: two branches each added migration {} and the "
		                           "merge kept one snapshot, so the chain records the schema after only one of them",
		                           names, path, path.substr(5, path.find('_', 5) - 5)),
		               fmt::format("Both migrations still apply; only drizzle-kit's snapshot chain is wrong. If {} is "
		                           "not applied anywhere yet, remove its .sql file and journal entry and run drizzle-kit "
		                           "generate again; otherwise review the next generated migration by hand (it diffs "
		                           "against a snapshot that lacks one branch's change).",
		                           migs.back()->tag)});
	}

	std::map<std::string, std::vector<const Snap *>> by_id, by_prev;
	for (const auto &s : snaps) {
		by_id[s.id].push_back(&s);
		for (const auto &p : s.prevs)
			by_prev[p].push_back(&s);
	}
	for (const auto &[id, list] : by_id)
		if (list.size() > 1) {
			// every copy is named: a folder where several were copied needs each regenerated
			std::string names = list[0]->path;
			for (size_t i = 1; i < list.size(); ++i)
				names += (i + 1 == list.size() ? " and " : ", ") + list[i]->path;
			out.push_back({Severity::Error, "snapshot.duplicate_id", list[1]->path,
			               fmt::format("{} have the same id {}", names, id),
			               list.size() > 2 ? "Snapshots were copied instead of generated: regenerate the later "
			                                 "migrations with drizzle-kit generate."
			                               : "A snapshot was copied instead of generated: regenerate the later "
			                                 "migration with drizzle-kit generate."});
		}
	for (const auto &s : snaps)
		for (const auto &prev : s.prevs)
			if (prev != kZeroSnapshotId && !by_id.count(prev))
				// drizzle-kit accepts it and nothing applied depends on it: only the base that the
				// next `generate` diffs against is affected.
				out.push_back({Severity::Warning, "snapshot.prev_missing", s.path,
			               fmt::format("{}: prevId {} matches no snapshot in the folder", s.path, prev),
			               "Nothing applied depends on it (drizzle-kit accepts it too). If the parent was deleted "
			               "by mistake, restore it from version control; an old project that pruned its snapshots "
			               "can leave it."});
	// A merge snapshot (drizzle-kit 1.0) lists both branch heads as parents:
	// those branches are resolved.
	auto merged = [&](const std::vector<const Snap *> &children) {
		for (const auto &s : snaps) {
			size_t n = 0;
			for (const auto *c : children)
				n += std::count(s.prevs.begin(), s.prevs.end(), c->id);
			if (n == children.size())
				return true;
		}
		return false;
	};
	std::map<std::string, const Migration *> migration_of;  // snapshot path -> its migration
	for (const auto &m : folder.migrations)
		migration_of.emplace(snapshot_path(folder, m), &m);
	for (const auto &[prev, all_children] : by_prev) {
		// copies of one snapshot (one id) are not branches: snapshot.duplicate_id above says so
		std::vector<const Snap *> children;
		std::set<std::string> ids;
		for (const auto *c : all_children)
			if (ids.insert(c->id).second)
				children.push_back(c);
		if (children.size() < 2 || merged(children))
			continue;
		std::string parent = prev == kZeroSnapshotId ? std::string("the empty schema (first snapshot)")
		                                             : (by_id.count(prev) ? by_id[prev][0]->path : "id " + prev);
		std::string names;
		for (const auto *c : children)
			names += (names.empty() ? "" : " and ") + c->path;
		// Branches that touch different objects build the same schema in either order
		// (drizzle-kit 1.0's check accepts them): a warning. Branches that touch the same
		// object, or whose snapshots dbkit cannot read, are an error.
		// A branch whose migration has no statements (a snapshot-only "no-op metadata"
		// migration, latitude-llm's) changes nothing in the database: it commutes with any other.
		const Snap *parent_snap = by_id.count(prev) ? by_id[prev][0] : nullptr;
		std::optional<ObjectMap> base = objects_of(parent_snap);
		std::vector<std::set<std::string>> footprints;
		std::string no_statements;  // such branches' migrations, named in the warning
		bool readable = base.has_value();
		for (const auto *c : children) {
			if (auto m = migration_of.find(c->path); m != migration_of.end() && blank_sql(m->second->sql)) {
				footprints.emplace_back();
				no_statements += (no_statements.empty() ? "" : " and ") + m->second->file;
				continue;
			}
			std::optional<ObjectMap> head = readable ? objects_of(c) : std::nullopt;
			if (!head) {
				readable = false;
				break;
			}
			footprints.push_back(changed_objects(*base, *head));
		}
		std::vector<std::string> clash;
		for (size_t i = 0; readable && i < footprints.size(); ++i)
			for (size_t j = i + 1; j < footprints.size(); ++j)
				for (auto &x : branch_conflicts(footprints[i], footprints[j]))
					clash.push_back(std::move(x));
		std::sort(clash.begin(), clash.end());
		clash.erase(std::unique(clash.begin(), clash.end()), clash.end());
		std::string subject = by_id.count(prev) ? by_id[prev][0]->path : prev;
		if (readable && clash.empty()) {
			out.push_back({Severity::Warning, "snapshot.collision", subject,
			               fmt::format("{} were generated from the same parent, {}: two branches each added a "
			                           "migration; {}, so either order builds the same schema",
			                           names, parent,
			                           no_statements.empty()
			                               ? std::string("they touch different objects")
			                               : no_statements + " has no statements (its snapshot alone changes)"),
			               "Nothing to fix for applying. The next drizzle-kit generate diffs against one branch's "
			               "snapshot only: check that its output does not repeat the other branch's changes."});
			continue;
		}
		std::string what;
		for (const auto &x : clash)
			what += (what.empty() ? "" : ", ") + x;
		out.push_back({Severity::Error, "snapshot.collision", subject,
		               readable ? fmt::format("{} were generated from the same parent, {}: both branches change {}, "
		                                      "so the result depends on the order they are applied in",
		                                      names, parent, what)
		                        : fmt::format("{} were generated from the same parent, {}: two branches each added a "
		                                      "migration, and dbkit cannot read their snapshots to tell whether they "
		                                      "touch the same objects",
		                                      names, parent),
		               "Keep one branch's migration; regenerate the other's after it (delete its .sql, snapshot and "
		               "journal entry, then drizzle-kit generate) so the chain is linear again."});
	}
	return out;
}

std::string snapshot_path(const Folder &f, const Migration &m) {
	if (f.layout == Folder::Layout::Folders)
		return m.tag + "/snapshot.json";
	return "meta/" + m.tag.substr(0, m.tag.find('_')) + "_snapshot.json";
}

std::optional<std::pair<std::string, std::string_view>> newest_snapshot(const FolderInput &in, const Folder &f) {
	for (auto m = f.migrations.rbegin(); m != f.migrations.rend(); ++m) {
		std::string want = snapshot_path(f, *m);
		for (const auto &[path, content] : in.files)
			if (path == want)
				return std::make_pair(want, content);
	}
	return std::nullopt;
}

namespace {
// A byte order mark at a file's start (skipped) or inside it (rejected): bytes, no parser needed,
// so `check --offline` reports it too.
void bom_findings(const Migration &m, std::vector<Finding> &out) {
	if (m.sql.substr(0, kUtf8Bom.size()) == kUtf8Bom)
		out.push_back({Severity::Warning, "migration.bom", m.tag,
		               fmt::format("migration {} starts with a UTF-8 byte order mark: dbkit skips it, as psql does, "
		                           "but drizzle's own migrator sends it to PostgreSQL, which rejects the statement",
		                           m.file),
		               "If drizzle's migrator also runs this folder anywhere, save the file as UTF-8 without BOM "
		                "(bytes EF BB BF at its start): an applied file keeps its hash only if left as it is, so "
		                "then record the new one with dbkit accept-change."});
	if (size_t bom = stray_bom(m.sql))
		out.push_back({Severity::Warning, "migration.bom", m.tag,
		               fmt::format("migration {} (line {}): a UTF-8 byte order mark stands inside the file, not at its "
		                           "start: PostgreSQL reads it as an invisible character and rejects the statement",
		                           m.file, line_at(m.sql, bom)),
		               "Remove the byte order mark (bytes EF BB BF) at that line, for example by saving the file as "
		               "UTF-8 without BOM. A BOM at the very start of a file is fine: dbkit skips it, as psql does."});
}
}  // namespace

std::vector<Finding> check_files(const Folder &folder) {
	std::vector<Finding> out;
	for (const auto &m : folder.migrations) {
		bom_findings(m, out);
		if (m.down_sql) {  // a down file too
			Migration down = m;
			down.file = m.down_file;
			down.sql = *m.down_sql;
			bom_findings(down, out);
		}
		if (blank_sql(m.sql))
			out.push_back({Severity::Warning, "migration.empty", m.tag,
			               fmt::format("{} has no statements", m.file),
			               "An empty migration is recorded but does nothing; write its SQL, or remove it with its "
			               "journal entry if it was never applied."});
	}
	return out;
}

}  // namespace dbkit::core
