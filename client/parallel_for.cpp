#include "parallel_for.hpp"

#include <algorithm>
#include <exception>
#include <system_error>
#include <thread>
#include <vector>

namespace dbkit::client {

void parallel_for(size_t n, const std::function<void(size_t)> &body) {
	unsigned threads = n < 256 ? 1 : std::min(4u, std::max(1u, std::thread::hardware_concurrency()));
	std::vector<std::exception_ptr> failed(threads);
	auto work = [&](unsigned k) noexcept {
		try {
			for (size_t i = k; i < n; i += threads)
				body(i);
		} catch (...) {
			failed[k] = std::current_exception();
		}
	};
	{
		std::vector<std::thread> pool;
		struct Join {  // joined on every way out, a failed thread start included
			std::vector<std::thread> &p;
			~Join() {
				for (auto &t : p)
					t.join();
			}
		} join{pool};
		for (unsigned k = 1; k < threads; ++k) {
			try {
				pool.emplace_back(work, k);
			} catch (const std::system_error &) {
				work(k);
			}
		}
		work(0);
	}
	for (const auto &f : failed)
		if (f)
			std::rethrow_exception(f);
}

}  // namespace dbkit::client
