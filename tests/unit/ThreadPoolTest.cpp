// SPDX-License-Identifier: GPL-3.0-or-later
// The engine's thread pool (private to the engine: included by path). Its contract: every index
// runs exactly once a call, on a participant id below size(), the first exception reaches the
// caller, and the pool goes on working afterwards — for any thread count and any sequence of
// calls, which is what the stages' "the output does not depend on the thread count" rests on.
#include "../../host/src/core/ThreadPool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace lathe {
namespace {

using detail::ThreadPool;

TEST(ThreadPool, EveryIndexRunsExactlyOnceOnAValidParticipant) {
    for (unsigned threads : {1u, 2u, 3u, 5u, 16u}) {
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

// A pool that cannot start all its threads (an address-space limit: each thread's stack is 8 MiB
// of it) must throw std::bad_alloc with no thread left behind. Found on a 16-core GPU machine: a
// master under `ulimit -v` hung for ever, the started workers waiting on a condition variable
// that the failed constructor was destroying. Run in a child process (the limit would hurt the
// other tests), which an alarm ends if it hangs.
TEST(ThreadPool, ThreadsThatCannotStartAreOutOfMemoryNotAHang) {
#if defined(__SANITIZE_ADDRESS__)
    GTEST_SKIP() << "an address-space limit cannot be combined with ASan's shadow memory";
#else
    constexpr unsigned kThreads = 256;               // 2 GiB of stacks
    constexpr std::uint64_t kHeadroom = 64ull << 20; // room for a few, not all
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        alarm(20);
        std::uint64_t vmKiB = 0;
        std::FILE* f = std::fopen("/proc/self/status", "r");
        char line[256];
        while (f != nullptr && std::fgets(line, sizeof line, f) != nullptr) {
            std::sscanf(line, "VmSize: %" SCNu64, &vmKiB);
        }
        if (f != nullptr) {
            std::fclose(f);
        }
        const rlimit limit{vmKiB * 1024 + kHeadroom, RLIM_INFINITY};
        if (vmKiB == 0 || setrlimit(RLIMIT_AS, &limit) != 0) {
            _exit(3);
        }
        try {
            ThreadPool pool(kThreads);
            _exit(4); // every thread started: the limit did not bite
        } catch (const std::bad_alloc&) {
            _exit(0);
        } catch (...) {
            _exit(5);
        }
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_FALSE(WIFSIGNALED(status)) << "the pool hung (signal " << WTERMSIG(status) << ")";
    EXPECT_EQ(WEXITSTATUS(status), 0) << "3: no limit set, 4: no thread failed, 5: not bad_alloc";
#endif
}

} // namespace
} // namespace lathe
