#include "enum_fold.hpp"

#include <algorithm>

namespace dbkit::core {

std::optional<std::vector<std::string>> fold_enum_labels(std::vector<std::string> labels,
                                                         const std::vector<EnumAdd> &adds) {
	for (const EnumAdd &a : adds) {
		if (std::find(labels.begin(), labels.end(), a.value) != labels.end()) {
			if (a.if_not_exists)
				continue;
			return std::nullopt;
		}
		if (!a.neighbor) {
			labels.push_back(a.value);
			continue;
		}
		auto at = std::find(labels.begin(), labels.end(), *a.neighbor);
		if (at == labels.end())
			return std::nullopt;
		labels.insert(a.before ? at : at + 1, a.value);
	}
	return labels;
}

}  // namespace dbkit::core
