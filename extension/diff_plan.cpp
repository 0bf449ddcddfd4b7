#include "diff_plan.hpp"

#include <fmt/format.h>

#include "errcodes.hpp"

namespace dbkit {

core::DiffOptions diff_options(const EngineOptions &o, bool concurrent_indexes) {
	core::DiffOptions d;
	d.concurrent_indexes = concurrent_indexes;
	d.drop_and_add = o.drop_and_add;
	d.keep_undeclared = o.keep_undeclared;
	for (const std::string &spec : o.renames) {
		core::Rename r;
		if (!core::parse_rename(spec, r))
			throw Error(DBKIT_OPTION_INVALID, fmt::format("rename \"{}\" is not FROM=TO", spec),
			            "Write the old qualified name and the new last name: public.users.bio=about, "
			            "public.posts=articles, public.mood.sad=unhappy.");
		d.renames.push_back(r);
	}
	return d;
}

void refuse_undecided(const core::DiffResult &r, const std::string &what, const std::string &hint_lead,
                      const std::string &by_hand) {
	if (r.refusals.empty())
		return;
	std::string detail, hint;
	for (const auto &f : r.refusals) {
		detail += (detail.empty() ? "" : "\n") + f.object + ": " + f.message;
		if (!f.hint.empty() && hint.find(f.hint) == std::string::npos)
			hint += (hint.empty() ? "" : " ") + f.hint;
	}
	// a refusal with no option to give (a table made partitioned, ...) is left to the author
	size_t n = r.refusals.size();
	throw Error(DBKIT_STATEMENT_REFUSED,
	            hint.empty() ? fmt::format("{}: {} change{} to write by hand", what, n, n == 1 ? "" : "s")
	                         : fmt::format("{}: {} decision{} needed", what, n, n == 1 ? "" : "s"),
	            hint.empty() ? by_hand : hint_lead + hint, detail);
}

}  // namespace dbkit
