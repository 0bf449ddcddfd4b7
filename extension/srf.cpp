#include "srf.hpp"

namespace dbkit {

ResultRows::ResultRows(FunctionCallInfo fcinfo) {
	PgCall([&]() noexcept { compat::init_materialized_srf(fcinfo); });
	rsinfo_ = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
}

void ResultRows::add(std::vector<Cell> row) { rows_.push_back(std::move(row)); }

Datum ResultRows::done() {
	int natts = rsinfo_->setDesc->natts;
	std::vector<Datum> values(natts);
	std::vector<char> nulls(natts);  // bool-sized flags for tuplestore_putvalues
	for (const auto &row : rows_) {
		for (int i = 0; i < natts; ++i) {
			const Cell &c = i < static_cast<int>(row.size()) ? row[i] : Cell();
			nulls[i] = std::holds_alternative<std::monostate>(c);
			values[i] = Datum(0);
			if (auto s = std::get_if<std::string>(&c)) {
				const char *p = s->data();
				int len = static_cast<int>(s->size());
				values[i] = PgCall([&]() noexcept { return PointerGetDatum(cstring_to_text_with_len(p, len)); });
			} else if (auto n = std::get_if<int32_t>(&c)) {
				values[i] = Int32GetDatum(*n);
			} else if (auto l = std::get_if<int64_t>(&c)) {
				values[i] = Int64GetDatum(*l);
			} else if (auto d = std::get_if<double>(&c)) {
				values[i] = Float8GetDatum(*d);
			} else if (auto b = std::get_if<bool>(&c)) {
				values[i] = BoolGetDatum(*b);
			} else if (auto j = std::get_if<JsonText>(&c)) {
				const char *p = j->text.c_str();
				values[i] = PgCall([&]() noexcept { return DirectFunctionCall1(jsonb_in, CStringGetDatum(p)); });
			}
		}
		static_assert(sizeof(bool) == sizeof(char));
		Datum *v = values.data();
		bool *nl = reinterpret_cast<bool *>(nulls.data());
		PgCall([&]() noexcept { tuplestore_putvalues(rsinfo_->setResult, rsinfo_->setDesc, v, nl); });
	}
	rows_.clear();
	return Datum(0);
}

}  // namespace dbkit
