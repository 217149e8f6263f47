// SPDX-License-Identifier: GPL-3.0-or-later
// The engine's thread pool (private to the engine: included by path). Its contract: every index
// runs exactly once a call, on a participant id below size(), the first exception reaches the
// caller, and the pool goes on working afterwards — for any thread count and any sequence of
// calls, which is what the stages' "the output does not depend on the thread count" rests on.
#include "../../host/src/core/ThreadPool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <vector>

namespace lathe {
namespace {

using detail::ThreadPool;

TEST(ThreadPool, EveryIndexRunsExactlyOnceOnAValidParticipant) {
    for (unsigned threads : {1u, 2u, 3u, 5u}) {
        ThreadPool pool(threads);
        ASSERT_EQ(pool.size(), threads);
        std::uint64_t state = 12345;
        for (int call = 0; call < 400; ++call) {
            // Counts from 1 to 1500 in a fixed pseudo-random order: short and long loops in
            // quick succession, as the limiter's passes make them.
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            const std::size_t count = 1 + (state >> 33) % 1500;
            std::vector<std::atomic<int>> runs(count);
            std::atomic<int> badWorker{0};
            pool.parallelFor(count, [&](std::size_t i, unsigned worker) {
                runs[i].fetch_add(1, std::memory_order_relaxed);
                if (worker >= threads) {
                    badWorker.fetch_add(1, std::memory_order_relaxed);
                }
            });
            for (std::size_t i = 0; i < count; ++i) {
                ASSERT_EQ(runs[i].load(), 1) << threads << " threads, call " << call << ", index " << i;
            }
            ASSERT_EQ(badWorker.load(), 0);
        }
    }
}

TEST(ThreadPool, TheFirstExceptionReachesTheCallerAndThePoolGoesOn) {
    ThreadPool pool(3);
    EXPECT_THROW(pool.parallelFor(200,
                                  [](std::size_t i, unsigned) {
                                      if (i == 7) {
                                          throw std::runtime_error("index 7");
                                      }
                                  }),
                 std::runtime_error);
    std::atomic<int> ran{0};
    pool.parallelFor(200, [&](std::size_t, unsigned) { ran.fetch_add(1); });
    EXPECT_EQ(ran.load(), 200);
}

TEST(ThreadPool, AParticipantHeldUpLosesItsRemainingIndicesToTheOthers) {
    // Participant 0 (the caller) owns the front of the range and starts with index 0, which
    // blocks it; the other participant finishes its own half and must then take the rest of
    // the caller's half from the back rather than leave it waiting.
    ThreadPool pool(2);
    constexpr std::size_t kCount = 64;
    std::vector<unsigned> ranOn(kCount, 99);
    pool.parallelFor(kCount, [&](std::size_t i, unsigned worker) {
        ranOn[i] = worker;
        if (i == 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
        }
    });
    int taken = 0;
    for (std::size_t i = 1; i < kCount / 2; ++i) {
        taken += ranOn[i] == 1 ? 1 : 0;
    }
    EXPECT_GT(taken, 0) << "the second participant never took indices of the held-up first one's range";
    for (std::size_t i = 0; i < kCount; ++i) {
        EXPECT_LT(ranOn[i], 2u) << i;
    }
}

} // namespace
} // namespace lathe
