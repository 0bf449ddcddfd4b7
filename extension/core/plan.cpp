#include "plan.hpp"

#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

namespace dbkit::core {

const char *state_name(State s) {
	switch (s) {
	case State::Applied: return "applied";
	case State::Adopt: return "adoptable";
	case State::Pending: return "pending";
	case State::OutOfOrder: return "out_of_order";
	case State::Modified: return "modified";
	case State::Missing: return "missing";
	case State::Renamed: return "renamed";
	}
	return "?";
}

bool Plan::runs(const PlanItem &it) const {
	return refusals.empty() && (it.state == State::Pending || it.state == State::OutOfOrder);
}

namespace {
std::string short_hash(const std::string &h) { return h.substr(0, 12); }
}  // namespace

Plan make_plan(const std::vector<Migration> &migrations, const std::vector<std::string> &hashes,
               const std::vector<HistoryRow> &history, const std::vector<DrizzleRow> &drizzle,
               const PlanOptions &opts) {
	Plan plan;
	std::unordered_map<std::string, const HistoryRow *> by_tag;
	for (const auto &h : history)
		by_tag.emplace(h.tag, &h);

	// drizzle rows that dbkit's own history explains (dbkit wrote them, or adopted
	// them earlier) are consumed first; the rest are candidates for adoption,
	// matched by name (1.0), by created_at = when (0.x identity), then by hash.
	std::unordered_set<const DrizzleRow *> dz_used;
	{
		std::unordered_map<std::string, int> history_hash_count;
		for (const auto &h : history)
			++history_hash_count[h.hash];
		for (const auto &d : drizzle) {
			auto c = history_hash_count.find(d.hash);
			if (c != history_hash_count.end() && c->second > 0) {
				--c->second;
				dz_used.insert(&d);
			}
		}
	}
	std::unordered_map<int64_t, const DrizzleRow *> dz_when;
	std::unordered_map<std::string, const DrizzleRow *> dz_name, dz_hash;
	for (const auto &d : drizzle) {
		if (dz_used.count(&d))
			continue;
		if (d.created_at)
			dz_when.emplace(*d.created_at, &d);
		if (d.name)
			dz_name.emplace(*d.name, &d);
		dz_hash.emplace(d.hash, &d);
	}

	std::optional<size_t> last_applied;  // highest folder position already in the database
	for (size_t i = 0; i < migrations.size(); ++i) {
		const Migration &m = migrations[i];
		PlanItem it;
		it.tag = m.tag;
		it.idx = m.idx;
		it.when = m.when;
		it.pos = i;
		it.file_hash = hashes[i];
		if (auto h = by_tag.find(m.tag); h != by_tag.end()) {
			it.applied_hash = h->second->hash;
			it.state = h->second->hash == it.file_hash ? State::Applied : State::Modified;
		} else {
			const DrizzleRow *d = nullptr;
			if (auto x = dz_name.find(m.tag); x != dz_name.end() && !dz_used.count(x->second))
				d = x->second;
			else if (auto y = dz_when.find(m.when); y != dz_when.end() && !dz_used.count(y->second))
				d = y->second;
			else if (auto z = dz_hash.find(it.file_hash); z != dz_hash.end() && !dz_used.count(z->second))
				d = z->second;
			if (d) {
				dz_used.insert(d);
				it.applied_hash = d->hash;
				it.state = d->hash == it.file_hash ? State::Adopt : State::Modified;
				it.note = d->hash == it.file_hash ? "applied by drizzle's migrator"
				                                  : "applied by drizzle's migrator with different content";
			} else {
				it.state = State::Pending;
			}
		}
		if (it.state == State::Modified && opts.flipped_hash && opts.flipped_hash(i) == it.applied_hash) {
			it.line_endings_only = true;
			bool crlf = m.sql.find("\r\n") != std::string_view::npos;
			std::string why = fmt::format("only its line endings differ: {} now, {} when applied", crlf ? "CRLF" : "LF",
			                              crlf ? "LF" : "CRLF");
			it.note = it.note.empty() ? why : it.note + "; " + why;
		}
		if (it.state != State::Pending)
			last_applied = i;
		plan.items.push_back(std::move(it));
	}

	std::unordered_set<std::string> folder_tags;
	for (const auto &m : migrations)
		folder_tags.insert(m.tag);
	// A migration renamed in the folder (drizzle-kit up turns 0003_x.sql into
	// 20261125221150_x/migration.sql, bytes unchanged): same hash, old tag gone.
	std::unordered_map<std::string, std::vector<const HistoryRow *>> gone_by_hash;
	for (const auto &h : history)
		if (!folder_tags.count(h.tag))
			gone_by_hash[h.hash].push_back(&h);
	std::unordered_set<const HistoryRow *> renamed;
	for (auto &it : plan.items) {
		if (it.state != State::Pending)
			continue;
		auto g = gone_by_hash.find(it.file_hash);
		if (g == gone_by_hash.end() || g->second.empty())
			continue;
		const HistoryRow *h = g->second.front();
		g->second.erase(g->second.begin());
		renamed.insert(h);
		it.state = State::Renamed;
		it.applied_hash = h->hash;
		it.renamed_from = h->tag;
		it.note = "applied as " + h->tag + " (same content, new name)";
		if (!last_applied || *it.pos > *last_applied)
			last_applied = it.pos;
	}
	for (const auto &h : history) {
		if (folder_tags.count(h.tag) || renamed.count(&h))
			continue;
		PlanItem it;
		it.state = State::Missing;
		it.tag = h.tag;
		it.idx = h.idx;
		it.when = h.when;
		it.applied_hash = h.hash;
		plan.items.push_back(std::move(it));
	}

	for (auto &it : plan.items) {
		if (it.state == State::Pending && last_applied && *it.pos < *last_applied) {
			it.state = State::OutOfOrder;
			it.note = fmt::format("sorts before {}, which is already applied", migrations[*last_applied].tag);
		}
	}

	// Refusals: each names the migration and gives the next command.
	for (const auto &it : plan.items) {
		switch (it.state) {
		case State::Modified: {
			const std::string &file = migrations[*it.pos].file;
			if (it.line_endings_only) {
				plan.refusals.push_back(
				    {Severity::Error, "history.modified", it.tag,
				     fmt::format("migration {} was modified after it was applied: {} now has sha256 {}..., the "
				                 "database recorded {}... ({})",
				                 it.tag, file, short_hash(it.file_hash), short_hash(it.applied_hash), it.note),
				     fmt::format("A checkout changed the line endings (git's core.autocrlf, a .gitattributes eol "
				                 "setting, an editor); git diff shows nothing. dbkit hashes the file's bytes, as "
				                 "drizzle-kit does. Check the files out as they were applied (`*.sql -text` in "
				                 ".gitattributes keeps them byte for byte), or record the new hash: dbkit "
				                 "accept-change {} --reason \"line endings\"",
				                 it.tag)});
				break;
			}
			plan.refusals.push_back(
			    {Severity::Error, "history.modified", it.tag,
			     fmt::format("migration {} was modified after it was applied: {} now has sha256 {}..., the "
			                 "database recorded {}...{}",
			                 it.tag, file, short_hash(it.file_hash), short_hash(it.applied_hash),
			                 it.note.empty() ? "" : " (" + it.note + ")"),
			     fmt::format("Restore {} to the applied version (git log -p -- {}). If the edit was intended and the "
			                 "database already matches it, record the new hash: dbkit accept-change {} --reason "
			                 "\"...\"",
			                 file, file, it.tag)});
			break;
		}
		case State::Missing:
			plan.refusals.push_back(
			    {Severity::Error, "history.missing", it.tag,
			     fmt::format("migration {} is recorded as applied but is no longer in the folder", it.tag),
			     fmt::format("Restore its file from version control. If it was rolled back by hand on purpose, "
			                 "drop its history row: dbkit forget {} --reason \"...\"",
			                 it.tag)});
			break;
		case State::OutOfOrder:
			if (!opts.out_of_order)
				plan.refusals.push_back(
				    {Severity::Error, "history.out_of_order", it.tag,
				     fmt::format("migration {} is pending but {} (a branch merged late)", it.tag, it.note),
				     fmt::format("Check that {} does not conflict with what was applied after it, then run again "
				                 "with --allow-out-of-order (option \"out_of_order\": true); or regenerate it so it "
				                 "sorts last.",
				                 it.tag)});
			break;
		default:
			break;
		}
	}

	for (const auto &d : drizzle) {
		if (dz_used.count(&d))
			continue;
		std::string ident = d.name ? "name " + *d.name
		                           : (d.created_at ? fmt::format("created_at {}", *d.created_at) : "no created_at");
		plan.notices.push_back({Severity::Warning, "drizzle.unmatched_row", ident,
		                        fmt::format("drizzle's migrations table has a row (id {}, {}, hash {}...) that "
		                                    "matches no migration of this folder; dbkit does not guess what it was",
		                                    d.id, ident, short_hash(d.hash)),
		                        "If the folder was squashed or renamed, record where the database stands with "
		                        "dbkit baseline TAG; otherwise check that --dir points at the right folder."});
	}
	return plan;
}

}  // namespace dbkit::core
