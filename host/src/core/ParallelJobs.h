// Lathe (internal): independent tasks on plain threads — designs on a few, jobs with progress.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Progress.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <exception>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

namespace lathe::detail {

/// Runs task(i) for every i in [0, count) on up to `threads` threads, the calling one among them,
/// each taking the next index not yet taken (in index order), and returns when all are done; the
/// exception of the lowest failing index is rethrown then. Plain threads, not the render's
/// ThreadPool: its workers flush subnormals, and a filter design must be the same to the bit on any
/// number of threads (each runs in the caller's floating-point mode, which a new thread inherits).
/// Where no further thread can be started, those already running share the rest.
template <typename Task> void forEachIndex(std::size_t count, unsigned threads, const Task& task) {
    std::vector<std::exception_ptr> errors(count);
    std::atomic<std::size_t> next{0};
    auto run = [&] {
        for (std::size_t i = next++; i < count; i = next++) {
            try {
                task(i);
            } catch (...) {
                errors[i] = std::current_exception();
            }
        }
    };
    const std::size_t lanes = std::min<std::size_t>(count, std::max(1u, threads));
    std::vector<std::thread> helpers;
    helpers.reserve(lanes > 0 ? lanes - 1 : 0);
    for (std::size_t lane = 1; lane < lanes; ++lane) {
        try {
            helpers.emplace_back(run);
        } catch (const std::system_error&) {
            break;
        }
    }
    run();
    for (std::thread& t : helpers) {
        t.join();
    }
    for (const std::exception_ptr& e : errors) {
        if (e) {
            std::rethrow_exception(e);
        }
    }
}

/// Runs job(k, control_k) for every k in `order` (started in that order: longest first is best)
/// on `workers` threads (forEachIndex's). Each job gets the caller's cancel token and a progress
/// callback that records its frames done; this thread sums them and calls control.progress every
/// 50 ms (the callbacks' contract: the caller's thread) with `phase` and `totalFrames`. When every
/// job has ended, the exception of the first failed job (in index order) is rethrown.
template <typename Job>
void runParallelJobs(const std::vector<std::size_t>& order, unsigned workers, const JobControl& control,
                     std::string_view phase, Frames totalFrames, Job job) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::size_t count = order.size();
    std::vector<std::exception_ptr> errors(count); // by job index k, not by place in `order`
    std::vector<std::atomic<Frames>> done(count);
    std::atomic<bool> ended{false};
    std::exception_ptr failed; // forEachIndex's own (its bookkeeping could not be allocated)
    std::thread jobs([&] {
        try {
            forEachIndex(count, workers, [&](std::size_t n) {
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
            });
        } catch (...) {
            failed = std::current_exception();
        }
        ended = true;
    });
    while (!ended.load()) {
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
    jobs.join();
    if (failed) {
        std::rethrow_exception(failed);
    }
    for (const auto& e : errors) {
        if (e) {
            std::rethrow_exception(e);
        }
    }
}

} // namespace lathe::detail
