// SPDX-License-Identifier: GPL-3.0-or-later
#include "LedgerMemory.h"

#include <lathe/AudioBuffer.h>
#include <lathe/HostMemory.h>

#include <gtest/gtest.h>

#include <stdexcept>
#include <utility>

namespace lathe {
namespace {

AudioBuffer ramp(int channels, Frames frames) {
    AudioBuffer b(channels, frames);
    b.setFrames(frames);
    for (int c = 0; c < channels; ++c) {
        for (Frames i = 0; i < frames; ++i) {
            b.channel(c)[i] = static_cast<float>(c * 1000 + i);
        }
    }
    return b;
}

TEST(AudioBuffer, GrowKeepsContentPerChannel) {
    AudioBuffer b = ramp(3, 10);
    b.setFrames(1000); // forces a re-layout
    for (int c = 0; c < 3; ++c) {
        for (Frames i = 0; i < 10; ++i) {
            ASSERT_EQ(b.channel(c)[i], static_cast<float>(c * 1000 + i));
        }
    }
}

TEST(AudioBuffer, AppendAndDropFront) {
    AudioBuffer a = ramp(2, 5);
    AudioBuffer b;
    b.reset(2, 0);
    b.append(a, 1, 3);
    b.append(a, 0, 2);
    ASSERT_EQ(b.frames(), 5);
    EXPECT_EQ(b.channel(1)[0], 1001.0f);
    EXPECT_EQ(b.channel(1)[3], 1000.0f);
    b.dropFront(2);
    ASSERT_EQ(b.frames(), 3);
    EXPECT_EQ(b.channel(0)[0], 3.0f);
    EXPECT_EQ(b.channel(0)[2], 1.0f);
}

TEST(AudioBuffer, InterleaveRoundTripsForOddChannelCounts) {
    for (int channels : {1, 2, 3, 6, 8}) {
        const AudioBuffer a = ramp(channels, 17);
        std::vector<float> inter(17 * static_cast<std::size_t>(channels));
        interleave(a, 0, 17, inter.data());
        EXPECT_EQ(inter[static_cast<std::size_t>(channels)], 1.0f); // frame 1, channel 0
        AudioBuffer back(channels, 17);
        back.setFrames(17);
        deinterleave(inter.data(), 17, back, 0);
        for (int c = 0; c < channels; ++c) {
            for (Frames i = 0; i < 17; ++i) {
                ASSERT_EQ(back.channel(c)[i], a.channel(c)[i]);
            }
        }
    }
}

void expectRamp(const AudioBuffer& b, int channels, Frames frames) {
    ASSERT_EQ(b.channels(), channels);
    ASSERT_EQ(b.frames(), frames);
    for (int c = 0; c < channels; ++c) {
        for (Frames i = 0; i < frames; ++i) {
            ASSERT_EQ(b.channel(c)[i], static_cast<float>(c * 1000 + i)) << c << " " << i;
        }
    }
}

// A buffer's samples move into a HostMemory's allocations with their content, grow there, and
// go back to it — every allocation released once, with its size — whether the buffer is reset,
// grown, moved, swapped or destroyed; a copy lives in ordinary memory.
TEST(AudioBuffer, SamplesLiveInTheMemoryTheyAreGiven) {
    test::LedgerMemory memory;
    {
        AudioBuffer b = ramp(3, 10);
        b.useMemory(&memory);
        EXPECT_EQ(b.memory(), &memory);
        EXPECT_TRUE(memory.holds(b.channel(2)));
        expectRamp(b, 3, 10);
        b.useMemory(&memory); // the same memory: nothing moves
        EXPECT_EQ(memory.allocations(), 1);

        b.setFrames(1000); // grows there
        EXPECT_EQ(memory.allocations(), 2);
        EXPECT_EQ(memory.outstanding(), 1u);
        EXPECT_TRUE(memory.holds(b.channel(2) + 999));
        b.setFrames(10);
        expectRamp(b, 3, 10);
        EXPECT_EQ(b.channel(1)[500], 0.0f) << "new storage is zeroed";

        const AudioBuffer copy = b; // ordinary memory
        EXPECT_EQ(copy.memory(), nullptr);
        EXPECT_FALSE(memory.holds(copy.channel(0)));
        expectRamp(copy, 3, 10);

        AudioBuffer other = ramp(3, 4);
        std::swap(b, other);
        EXPECT_EQ(other.memory(), &memory);
        EXPECT_EQ(b.memory(), nullptr);
        expectRamp(other, 3, 10);
        expectRamp(b, 3, 4);

        AudioBuffer moved(std::move(other));
        EXPECT_EQ(moved.memory(), &memory);
        expectRamp(moved, 3, 10);
        moved.reset(2, 8); // another channel count: new storage, still there
        EXPECT_EQ(moved.memory(), &memory);
        EXPECT_TRUE(memory.holds(moved.channel(1)));
        EXPECT_EQ(memory.outstanding(), 1u);

        moved = ramp(1, 3); // assigned from an ordinary buffer: its storage, its memory
        EXPECT_EQ(moved.memory(), nullptr);
        EXPECT_EQ(memory.outstanding(), 0u);

        AudioBuffer back = ramp(2, 6);
        back.useMemory(&memory);
        back.useMemory(nullptr); // and out again, content kept
        EXPECT_EQ(back.memory(), nullptr);
        expectRamp(back, 2, 6);
        EXPECT_EQ(memory.outstanding(), 0u);

        AudioBuffer empty;
        empty.useMemory(&memory); // nothing to allocate until it has room
        EXPECT_EQ(memory.outstanding(), 0u);
        empty.reset(2, 16);
        EXPECT_TRUE(memory.holds(empty.channel(1)));
        EXPECT_EQ(memory.outstanding(), 1u);
    }
    EXPECT_EQ(memory.outstanding(), 0u) << "every allocation went back to the memory it came from";
}

/// A memory that cannot allocate (a device out of page-locked memory).
class FailingMemory final : public HostMemory {
public:
    void* allocate(std::size_t) override { throw std::runtime_error("no page-locked memory"); }
    void release(void*, std::size_t) noexcept override { ADD_FAILURE() << "nothing was allocated"; }
};

// A failed move to another memory leaves the buffer as it was.
TEST(AudioBuffer, AFailedMoveLeavesTheBufferAsItWas) {
    FailingMemory memory;
    AudioBuffer b = ramp(2, 7);
    EXPECT_THROW(b.useMemory(&memory), std::runtime_error);
    EXPECT_EQ(b.memory(), nullptr);
    expectRamp(b, 2, 7);
}

} // namespace
} // namespace lathe
