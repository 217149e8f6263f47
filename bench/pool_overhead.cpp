// SPDX-License-Identifier: GPL-3.0-or-later
// The engine's thread pool alone: what one parallelFor costs beyond its work, by thread count.
// Usage: pool_overhead THREADS...
// The stages call parallelFor in quick succession on short loops (the limiter: four or five calls
// of about eight 1024-frame tiles per 8192-frame chunk, some 22 000 chunks an hour), so the cost
// of waking and collecting the workers decides whether more threads help. Per thread count this
// prints the microseconds a call takes for 8 and for 64 tiles of about 5 µs of work each, and for
// 8 empty tiles, over many calls in a row (as the limiter makes them).
#include "../host/src/core/ThreadPool.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

/// About 5 µs of arithmetic the compiler cannot drop (a dependent chain of multiplies).
double work(std::size_t seed, int iterations) {
    double v = 1.0 + static_cast<double>(seed) * 1e-9;
    for (int i = 0; i < iterations; ++i) {
        v = v * 1.0000001 + 1e-12;
    }
    return v;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s THREADS...\n", argv[0]);
        return 2;
    }
    constexpr int kCalls = 5000;
    constexpr int kIterations = 4000; // ≈ 5 µs here (2.5 GHz, 4-cycle multiply-adds): a short limiter tile
    for (int a = 1; a < argc; ++a) {
        const auto threads = static_cast<unsigned>(std::atoi(argv[a]));
        lathe::detail::ThreadPool pool(threads);
        std::vector<double> sink(pool.size() * 8, 0.0); // one cache line per participant
        for (const auto& [tiles, iterations] :
             {std::pair{8, 0}, std::pair{8, kIterations}, std::pair{64, kIterations}}) {
            const auto t0 = std::chrono::steady_clock::now();
            for (int call = 0; call < kCalls; ++call) {
                pool.parallelFor(static_cast<std::size_t>(tiles), [&](std::size_t i, unsigned worker) {
                    sink[worker * 8] += work(i, iterations);
                });
            }
            const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            std::printf("pool, %2u thread(s), %2d tiles of %s: %7.2f µs a call\n", threads, tiles,
                        iterations > 0 ? "~5 µs" : "nothing", s / kCalls * 1e6);
        }
    }
    return 0;
}
