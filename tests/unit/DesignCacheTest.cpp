// SPDX-License-Identifier: GPL-3.0-or-later
// Filter designs shared by renders (a batch's masters): each made once, equal to the bit to the
// design a render makes for itself, so a shared design never changes an output.
#include "TestFiles.h"
#include "TestSignals.h"

#include <lathe/Error.h>
#include <lathe/Master.h>
#include <lathe/design/DesignCache.h>

#include <gtest/gtest.h>
#include <sndfile.h>

#include <fstream>
#include <iterator>
#include <thread>
#include <vector>

namespace lathe {
namespace {

design::EqSpec defaultEq() {
    const Preset p = parsePreset(loadPresetDocument("default"));
    return std::get<design::EqSpec>(p.stages.front().spec);
}

std::string bytesOf(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(DesignCache, EachDesignIsMadeOnceAndEqualsAFreshOne) {
    design::DesignCache cache;
    const design::EqSpec eq = defaultEq();
    const auto first = cache.eq(eq, 48000, 1);
    const auto again = cache.eq(eq, 48000, 2); // the design is the same on any number of threads
    EXPECT_EQ(first, again);
    const design::EqDesign fresh = design::designEq(eq, 48000);
    EXPECT_EQ(first->stereo.taps, fresh.stereo.taps); // bit for bit
    EXPECT_EQ(first->taps, fresh.taps);
    EXPECT_EQ(first->maxErrorDb, fresh.maxErrorDb);
    // Another rate, another setting: designs of their own.
    EXPECT_NE(cache.eq(eq, 44100, 1), first);
    design::EqSpec louder = eq;
    louder.bands[1].gainDb += 0.1;
    EXPECT_EQ(cache.eq(louder, 48000, 1)->stereo.taps, design::designEq(louder, 48000).stereo.taps);
    const std::vector<double> splits = {120.0, 1000.0, 6000.0};
    const auto x = cache.crossover(splits, 24, 48000, 0, 1);
    EXPECT_EQ(cache.crossover(splits, 24, 48000, 0, 3), x);
    EXPECT_EQ(x->bands, design::designCrossover(splits, 24, 48000).bands);
    EXPECT_NE(cache.crossover(splits, 48, 48000, 0, 1), x);
    EXPECT_EQ(cache.counts().designed, 5u);
    EXPECT_EQ(cache.counts().reused, 2u);
}

TEST(DesignCache, RendersAskingAtOnceWaitForTheFirst) {
    design::DesignCache cache;
    const std::vector<double> splits = {200.0, 2000.0};
    std::vector<std::shared_ptr<const design::CrossoverDesign>> got(4);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < got.size(); ++i) {
        threads.emplace_back([&, i] { got[i] = cache.crossover(splits, 24, 96000, 0, 1); });
    }
    for (auto& t : threads) {
        t.join();
    }
    for (const auto& g : got) {
        EXPECT_EQ(g, got.front());
    }
    EXPECT_EQ(cache.counts().designed, 1u);
    EXPECT_EQ(cache.counts().reused, 3u);
}

TEST(DesignCache, AFailedDesignIsNotKeptAndTheOldestGoesWhenFull) {
    design::DesignCache cache;
    for (int i = 0; i < 2; ++i) { // a split above Nyquist: refused both times, nothing kept
        EXPECT_THROW(cache.crossover({30000.0}, 24, 48000, 0, 1), UsageError);
    }
    EXPECT_EQ(cache.counts().designed, 0u);
    design::EqSpec spec;
    spec.taps = 257;
    auto bell = [&](std::size_t i) {
        design::EqSpec s = spec;
        s.bands.push_back({design::EqBandType::Bell, 1000.0 + static_cast<double>(i), 1.0});
        return s;
    };
    const auto oldest = cache.eq(bell(0), 48000, 1);
    for (std::size_t i = 1; i <= design::kDesignCacheEntries; ++i) {
        cache.eq(bell(i), 48000, 1);
    }
    EXPECT_EQ(cache.counts().designed, design::kDesignCacheEntries + 1);
    EXPECT_NE(cache.eq(bell(0), 48000, 1), oldest); // designed again
    EXPECT_EQ(cache.counts().designed, design::kDesignCacheEntries + 2);
    EXPECT_EQ(oldest->stereo.taps, cache.eq(bell(0), 48000, 1)->stereo.taps);
}

// Two targeted masters of the default preset sharing a cache: the second designs nothing, and
// both files are byte-identical to masters that designed their own.
TEST(DesignCache, MastersSharingDesignsWriteTheSameBytes) {
    test::TempDir dir;
    auto backend = makeCpuBackend();
    MasterSettings alone;
    alone.preset = parsePreset(loadPresetDocument("default"));
    alone.target = presetTarget(alone.preset);
    alone.threads = 1;
    MasterSettings shared = alone;
    shared.designs = std::make_shared<design::DesignCache>();
    for (int i = 0; i < 2; ++i) {
        const auto in = dir.path() / ("in" + std::to_string(i) + ".wav");
        const test::Planar x = {test::noise(3 * 48000, 0.3, 70 + static_cast<std::uint64_t>(i)),
                                test::noise(3 * 48000, 0.2, 80 + static_cast<std::uint64_t>(i))};
        test::writeRawFloat(in, x, 48000, SF_FORMAT_WAV | SF_FORMAT_PCM_24);
        const auto a = dir.path() / ("alone" + std::to_string(i) + ".wav");
        const auto b = dir.path() / ("shared" + std::to_string(i) + ".wav");
        masterFile(in, a, alone, *backend);
        masterFile(in, b, shared, *backend);
        EXPECT_EQ(bytesOf(a), bytesOf(b)) << "file " << i;
    }
    EXPECT_EQ(shared.designs->counts().designed, 2u); // the EQ and the crossover, once each
    EXPECT_GE(shared.designs->counts().reused, 2u);
}

} // namespace
} // namespace lathe
