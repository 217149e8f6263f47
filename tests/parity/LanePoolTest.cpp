// SPDX-License-Identifier: GPL-3.0-or-later
// The CUDA backend's lanes (gpu/src/LanePool.h), on the host: a lane is never held by two callers,
// callers at once get lanes of their own up to the limit and no more, and a lane that cannot be
// made (no device memory) leaves the pool as it was.
#include "LanePool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace lathe::gpu::detail {
namespace {

struct FakeLane {
    int id = 0;
    std::atomic<int> users{0};
};

/// How long a test waits for something that must happen at once before it calls it a deadlock.
constexpr auto kDeadlockSeconds = std::chrono::seconds(20);

TEST(LanePool, OneCallerAtATimeUsesOneLane) {
    int made = 0;
    LanePool<FakeLane> pool(4, [&] {
        auto lane = std::make_unique<FakeLane>();
        lane->id = ++made;
        return lane;
    });
    for (int i = 0; i < 10; ++i) {
        const auto held = pool.take();
        EXPECT_EQ(held->id, 1);
    }
    EXPECT_EQ(pool.made(), 1u);
    EXPECT_EQ(made, 1);
}

TEST(LanePool, CallersAtOnceHoldLanesOfTheirOwn) {
    constexpr unsigned kLimit = 3;
    LanePool<FakeLane> pool(kLimit, [] { return std::make_unique<FakeLane>(); });
    // Three callers each hold a lane until all three hold one: the pool must give three at once.
    std::mutex m;
    std::condition_variable all;
    unsigned holding = 0;
    std::atomic<bool> timedOut{false};
    std::vector<FakeLane*> seen(kLimit);
    std::vector<std::thread> callers;
    for (unsigned t = 0; t < kLimit; ++t) {
        callers.emplace_back([&, t] {
            const auto held = pool.take();
            seen[t] = &*held;
            std::unique_lock lock(m);
            ++holding;
            all.notify_all();
            if (!all.wait_for(lock, kDeadlockSeconds, [&] { return holding == kLimit; })) {
                timedOut = true;
            }
        });
    }
    for (auto& c : callers) {
        c.join();
    }
    EXPECT_FALSE(timedOut) << "the pool gave fewer than " << kLimit << " lanes at once";
    EXPECT_NE(seen[0], seen[1]);
    EXPECT_NE(seen[1], seen[2]);
    EXPECT_NE(seen[0], seen[2]);
    EXPECT_EQ(pool.made(), kLimit);
}

TEST(LanePool, NoMoreLanesThanTheLimitAndNoneShared) {
    constexpr unsigned kLimit = 2;
    constexpr int kCallers = 6;
    constexpr int kCallsEach = 300;
    LanePool<FakeLane> pool(kLimit, [] { return std::make_unique<FakeLane>(); });
    std::atomic<int> held{0};
    std::atomic<int> mostHeld{0};
    std::atomic<int> shared{0};
    std::vector<std::thread> callers;
    for (int t = 0; t < kCallers; ++t) {
        callers.emplace_back([&] {
            for (int i = 0; i < kCallsEach; ++i) {
                const auto lane = pool.take();
                if (lane->users.fetch_add(1) != 0) {
                    ++shared;
                }
                const int now = ++held;
                int most = mostHeld.load();
                while (now > most && !mostHeld.compare_exchange_weak(most, now)) {
                }
                std::this_thread::yield();
                --held;
                lane->users.fetch_sub(1);
            }
        });
    }
    for (auto& c : callers) {
        c.join();
    }
    EXPECT_EQ(shared.load(), 0);
    EXPECT_LE(mostHeld.load(), static_cast<int>(kLimit));
    EXPECT_LE(pool.made(), kLimit);
}

TEST(LanePool, ACallerPastTheLimitWaitsForALaneToComeBack) {
    LanePool<FakeLane> pool(1, [] { return std::make_unique<FakeLane>(); });
    std::atomic<bool> givenBack{false};
    std::atomic<bool> tookBeforeGivenBack{false};
    std::optional<std::thread> second;
    {
        const auto first = pool.take();
        second.emplace([&] {
            const auto lane = pool.take();
            if (!givenBack) {
                tookBeforeGivenBack = true;
            }
        });
        std::this_thread::sleep_for(std::chrono::milliseconds(50)); // the second caller waits meanwhile
        givenBack = true;
    }
    second->join();
    EXPECT_FALSE(tookBeforeGivenBack);
    EXPECT_EQ(pool.made(), 1u);
}

TEST(LanePool, ALaneThatCannotBeMadeLeavesThePoolAsItWas) {
    bool fail = false;
    LanePool<FakeLane> pool(2, [&] {
        if (fail) {
            throw std::runtime_error("out of device memory");
        }
        return std::make_unique<FakeLane>();
    });
    {
        const auto first = pool.take();
        fail = true;
        EXPECT_THROW((void)pool.take(), std::runtime_error);
        EXPECT_EQ(pool.made(), 1u);
    }
    // The lane made before is still there; a second can be made once memory is there again.
    const auto again = pool.take();
    fail = false;
    const auto another = pool.take();
    EXPECT_NE(&*again, &*another);
    EXPECT_EQ(pool.made(), 2u);
}

TEST(LanePool, AtLeastOneLane) {
    LanePool<FakeLane> pool(0, [] { return std::make_unique<FakeLane>(); });
    EXPECT_EQ(pool.limit(), 1u);
    const auto held = pool.take();
    EXPECT_EQ(pool.made(), 1u);
}

// LATHE_CUDA_LANES: unset gives the default; a whole number within the bounds is taken; zero, too
// many, signs, spaces, fractions and words are usage errors naming the setting.
TEST(LanePool, TheLimitSettingTakesWholeNumbersWithinItsBounds) {
    EXPECT_EQ(parseLaneLimit("LATHE_CUDA_LANES", nullptr, 4, 16), 4u);
    EXPECT_EQ(parseLaneLimit("LATHE_CUDA_LANES", "1", 4, 16), 1u);
    EXPECT_EQ(parseLaneLimit("LATHE_CUDA_LANES", "16", 4, 16), 16u);
    for (const char* bad : {"", "0", "17", "-1", "+2", " 2", "2 ", "2.5", "four", "99999999999"}) {
        try {
            (void)parseLaneLimit("LATHE_CUDA_LANES", bad, 4, 16);
            ADD_FAILURE() << "accepted \"" << bad << "\"";
        } catch (const UsageError& e) {
            EXPECT_NE(std::string(e.what()).find("LATHE_CUDA_LANES must be a whole number from 1 to 16"),
                      std::string::npos)
                << e.what();
        }
    }
}

} // namespace
} // namespace lathe::gpu::detail
