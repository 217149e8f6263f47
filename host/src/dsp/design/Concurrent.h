// Lathe (private to the design code): independent designs on several threads.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <algorithm>
#include <cstddef>
#include <exception>
#include <system_error>
#include <thread>
#include <vector>

namespace lathe::detail {

/// Runs task(i) for every i in [0, count) on up to `threads` threads, the calling one among them,
/// and returns when all are done; the exception of the lowest failing index is rethrown. Plain
/// threads, not the render's ThreadPool: its workers flush subnormals, and a design must be the
/// same to the bit on any number of threads (each thread computes its indices in the caller's
/// floating-point mode, which a new thread inherits). Where no thread can be started, this one
/// runs that thread's share.
template <typename Task> void forEachIndex(std::size_t count, unsigned threads, const Task& task) {
    const std::size_t lanes = std::min<std::size_t>(count, std::max(1u, threads));
    std::vector<std::exception_ptr> errors(count);
    auto run = [&](std::size_t lane) {
        for (std::size_t i = lane; i < count; i += lanes) {
            try {
                task(i);
            } catch (...) {
                errors[i] = std::current_exception();
            }
        }
    };
    std::vector<std::thread> helpers;
    helpers.reserve(lanes > 0 ? lanes - 1 : 0);
    for (std::size_t lane = 1; lane < lanes; ++lane) {
        try {
            helpers.emplace_back(run, lane);
        } catch (const std::system_error&) {
            run(lane);
        }
    }
    if (lanes > 0) {
        run(0);
    }
    for (std::thread& t : helpers) {
        t.join();
    }
    for (const std::exception_ptr& e : errors) {
        if (e) {
            std::rethrow_exception(e);
        }
    }
}

} // namespace lathe::detail
