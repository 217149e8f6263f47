// Lathe (internal): independent jobs over a few worker threads, with progress on the caller's thread.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Progress.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <string_view>
#include <thread>
#include <vector>

namespace lathe::detail {

/// Runs job(k, control_k) for every k in `order` (started in that order: longest first is best)
/// on `workers` threads. Each job gets the caller's cancel token and a progress callback that
/// records its frames done; this thread sums them and calls control.progress every 50 ms (the
/// callbacks' contract: the caller's thread) with `phase` and `totalFrames`. When every job has
/// ended, the exception of the first failed job (in index order) is rethrown.
template <typename Job>
void runParallelJobs(const std::vector<std::size_t>& order, unsigned workers, const JobControl& control,
                     std::string_view phase, Frames totalFrames, Job job) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::size_t count = order.size();
    std::vector<std::exception_ptr> errors(count);
    std::vector<std::atomic<Frames>> done(count);
    std::atomic<std::size_t> next{0};
    workers = std::max(1u, std::min<unsigned>(workers, static_cast<unsigned>(count)));
    std::atomic<unsigned> running{workers};
    std::vector<std::thread> threads;
    for (unsigned w = 0; w < workers; ++w) {
        threads.emplace_back([&] {
            for (std::size_t n = next++; n < count; n = next++) {
                const std::size_t k = order[n];
                try {
                    JobControl jc;
                    jc.cancel = control.cancel;
                    jc.progress = [&done, k](const Progress& p) {
                        done[k].store(p.done, std::memory_order_relaxed);
                    };
                    job(k, jc);
                } catch (...) {
                    errors[k] = std::current_exception();
                }
            }
            --running;
        });
    }
    while (running.load() > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        if (control.progress) {
            Frames sum = 0;
            for (auto& d : done) {
                sum += d.load(std::memory_order_relaxed);
            }
            control.progress(
                Progress{phase, std::min(sum, totalFrames), totalFrames,
                         std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()});
        }
    }
    for (auto& t : threads) {
        t.join();
    }
    for (const auto& e : errors) {
        if (e) {
            std::rethrow_exception(e);
        }
    }
}

} // namespace lathe::detail
