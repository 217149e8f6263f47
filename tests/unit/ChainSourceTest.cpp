// SPDX-License-Identifier: GPL-3.0-or-later
// ChainSource: a source through stages, aligned as a render aligns a file — whatever sizes the
// stages emit in and the reader asks for.
#include "../../host/src/core/Prefetcher.h"
#include "LedgerMemory.h"
#include "TestSignals.h"

#include <lathe/ChainSource.h>
#include <lathe/Error.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <span>

namespace lathe {
namespace {

using test::Planar;

/// Halves the signal, delays it by `latency` frames and emits only every `burst` blocks (all it
/// holds at once, as the limiter's device pass emits 2^20 frames at a time), then `tail` frames of
/// 1.0 after the input: what ChainSource must deliver is exactly half the input.
class BurstStage final : public Stage {
public:
    BurstStage(Frames latency, int burst, Frames tail) : m_latency(latency), m_burst(burst), m_tail(tail) {}
    std::string name() const override { return "burst"; }
    StreamFormat prepare(const StreamFormat& input, Frames) override {
        m_held.reset(input.channels, m_latency);
        m_held.setFrames(m_latency);
        m_held.clear();
        return input;
    }
    Frames latency() const override { return m_latency; }
    Frames tail() const override { return m_tail; }
    void process(const AudioBuffer& in, AudioBuffer& out) override {
        AudioBuffer half(in.channels(), in.frames());
        half.setFrames(in.frames());
        for (int c = 0; c < in.channels(); ++c) {
            std::transform(in.channel(c), in.channel(c) + in.frames(), half.channel(c),
                           [](float v) { return 0.5f * v; });
        }
        m_held.append(half, 0, half.frames());
        out.reset(in.channels(), 0);
        if (++m_blocks % m_burst == 0) {
            out.append(m_held, 0, m_held.frames());
            m_held.setFrames(0);
        }
    }
    void flush(AudioBuffer& out) override {
        out.reset(m_held.channels(), 0);
        if (m_flushed) {
            return;
        }
        m_flushed = true;
        AudioBuffer tail(m_held.channels(), m_tail);
        tail.setFrames(m_tail);
        for (int c = 0; c < tail.channels(); ++c) {
            std::fill_n(tail.channel(c), m_tail, 1.0f);
        }
        m_held.append(tail, 0, m_tail);
        out.append(m_held, 0, m_held.frames());
    }

private:
    Frames m_latency;
    int m_burst;
    Frames m_tail;
    AudioBuffer m_held;
    int m_blocks = 0;
    bool m_flushed = false;
};

Planar ramp(int channels, Frames frames) {
    Planar x(static_cast<std::size_t>(channels), std::vector<float>(static_cast<std::size_t>(frames)));
    for (int c = 0; c < channels; ++c) {
        for (Frames n = 0; n < frames; ++n) {
            // Exact in float and distinct everywhere: a misplaced frame cannot match by chance.
            x[static_cast<std::size_t>(c)][static_cast<std::size_t>(n)] =
                static_cast<float>(n % 1000003) * 0x1p-20f + static_cast<float>(c);
        }
    }
    return x;
}

TEST(ChainSource, DeliversTheAlignedChainWhateverTheBurstsAndReadSizes) {
    const Frames frames = 5 * 65536 + 12345;
    const Planar x = ramp(2, frames);
    // Read sizes cycling through one frame, odd sizes, a block and more than a burst.
    const Frames reads[] = {1, 777, 65536, 300000, 4095, 65537};
    for (const int burst : {1, 3, 16}) {
        test::MemorySource source(x, 48000);
        BurstStage stage(1000, burst, 5000);
        ChainSource chain(source, {&stage});
        ASSERT_EQ(chain.totalFrames(), frames);
        Planar got(2);
        AudioBuffer block;
        for (std::size_t k = 0;; ++k) {
            const Frames want = reads[k % std::size(reads)];
            const Frames n = chain.read(block, want);
            ASSERT_LE(n, want);
            if (n == 0) {
                break;
            }
            for (int c = 0; c < 2; ++c) {
                got[static_cast<std::size_t>(c)].insert(got[static_cast<std::size_t>(c)].end(),
                                                        block.channel(c), block.channel(c) + n);
            }
        }
        for (int c = 0; c < 2; ++c) {
            const auto& g = got[static_cast<std::size_t>(c)];
            ASSERT_EQ(static_cast<Frames>(g.size()), frames) << "burst " << burst;
            for (Frames n = 0; n < frames; ++n) {
                // Halving is exact: the truth is the input's own sample times 0.5.
                ASSERT_EQ(g[static_cast<std::size_t>(n)],
                          0.5f * x[static_cast<std::size_t>(c)][static_cast<std::size_t>(n)])
                    << "burst " << burst << ", channel " << c << ", frame " << n;
            }
        }
    }
}

/// Reads every frame of `source` in sizes cycling through `reads`.
Planar readAll(AudioSource& source, std::span<const Frames> reads) {
    Planar got(static_cast<std::size_t>(source.channelCount()));
    AudioBuffer block;
    for (std::size_t k = 0;; ++k) {
        const Frames want = reads[k % reads.size()];
        const Frames n = source.read(block, want);
        EXPECT_LE(n, want);
        if (n == 0) {
            return got;
        }
        for (int c = 0; c < source.channelCount(); ++c) {
            auto& g = got[static_cast<std::size_t>(c)];
            g.insert(g.end(), block.channel(c), block.channel(c) + n);
        }
    }
}

// The read-ahead adapter (the trial reads the intermediate through it): the source's frames,
// in order, whatever sizes it reads ahead in and is asked for.
/// Passes its input on and notes whether every buffer it was handed, in and out, lay in `memory`.
class MemoryNotingStage final : public Stage {
public:
    explicit MemoryNotingStage(const test::LedgerMemory& memory) : m_memory(memory) {}
    std::string name() const override { return "noting"; }
    StreamFormat prepare(const StreamFormat& input, Frames) override { return input; }
    void process(const AudioBuffer& in, AudioBuffer& out) override {
        out.reset(in.channels(), in.frames());
        out.append(in, 0, in.frames());
        note(in);
        note(out);
    }
    void flush(AudioBuffer& out) override {
        out.reset(out.channels(), 0);
        note(out);
    }
    int calls = 0;
    int outside = 0; ///< buffers not in the memory

private:
    void note(const AudioBuffer& b) {
        ++calls;
        if (b.memory() != &m_memory || (b.frames() > 0 && !m_memory.holds(b.channel(0)))) {
            ++outside;
        }
    }
    const test::LedgerMemory& m_memory;
};

// Given a backend's host memory, every buffer ChainSource hands its stages or has them fill lies
// there (a device stage then copies page-locked blocks: the trial below 4 threads, compare's
// speaker renders), the audio is the same as with ordinary memory, and all of it comes back.
TEST(ChainSource, TheBuffersItHandsTheStagesLiveInTheMemoryItIsGiven) {
    const Frames frames = 3 * 65536 + 999;
    const Planar x = ramp(2, frames);
    test::LedgerMemory memory;
    Planar got[2];
    for (const bool given : {false, true}) {
        test::MemorySource source(x, 48000);
        MemoryNotingStage first(memory);
        MemoryNotingStage second(memory);
        {
            ChainSource chain(source, {&first, &second}, given ? &memory : nullptr);
            AudioBuffer block;
            got[given] = Planar(2);
            while (chain.read(block, 40000) > 0) {
                for (int c = 0; c < 2; ++c) {
                    got[given][static_cast<std::size_t>(c)].insert(
                        got[given][static_cast<std::size_t>(c)].end(), block.channel(c),
                        block.channel(c) + block.frames());
                }
            }
        }
        EXPECT_GE(first.calls, 8); // four blocks, in and out
        if (given) {
            EXPECT_EQ(first.outside + second.outside, 0);
            EXPECT_GT(memory.allocations(), 0);
        } else {
            EXPECT_EQ(first.outside, first.calls); // the test can tell
        }
        EXPECT_EQ(memory.outstanding(), 0u);
    }
    EXPECT_EQ(got[1], got[0]);
    EXPECT_EQ(got[1], x);
}

TEST(ReadAheadSource, DeliversTheSourceExactlyInAnySizes) {
    const Planar x = ramp(2, 3 * 65536 + 101);
    const Frames reads[] = {1, 777, 65536, 300000, 4095, 65537};
    for (const Frames ahead : {Frames{1000}, Frames{65536}}) {
        test::MemorySource source(x, 48000);
        detail::ReadAheadSource read(source, ahead);
        EXPECT_EQ(read.totalFrames(), 3 * 65536 + 101);
        EXPECT_EQ(readAll(read, reads), x) << "read ahead in blocks of " << ahead;
        AudioBuffer block;
        EXPECT_EQ(read.read(block, 10), 0) << "past the end";
    }
}

TEST(ReadAheadSource, AReadErrorReachesTheReaderAfterTheFramesBeforeIt) {
    test::FailingSource source;
    detail::ReadAheadSource read(source, 1024);
    AudioBuffer block;
    EXPECT_EQ(read.read(block, 1024), 1024);
    EXPECT_EQ(read.read(block, 1024), 1024);
    try {
        read.read(block, 1024);
        FAIL() << "no error";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("decoding failed at frame 2048"), std::string::npos) << e.what();
    }
}

} // namespace
} // namespace lathe
