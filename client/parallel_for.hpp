#pragma once
// Runs body(i) for every i in [0, n), on a few threads when n is large: on a VM
// where a syscall costs microseconds, stat-ing or reading 10,000 files is most of
// `status --dir`. An exception in a worker (bad_alloc) is rethrown here, not
// std::terminate; no thread to start means this thread does its share.
#include <cstddef>
#include <functional>

namespace dbkit::client {

void parallel_for(size_t n, const std::function<void(size_t)> &body);

}  // namespace dbkit::client
